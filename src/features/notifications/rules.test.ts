import { describe, expect, it } from "vitest";
import { COLLAPSE_WINDOW_MS, deliveryFor, isDoNotDisturb, joinsLatest, localMinutes, minutesOfDay, startsPushBurst, type Recipient } from "./rules";

const at = (iso: string) => new Date(iso);
const dnd = (start: string, end: string, timeZone = "UTC") => ({ enabled: true, start, end, timeZone });

describe("do not disturb", () => {
  it("reads times of day and refuses anything else", () => {
    expect(minutesOfDay("00:00")).toBe(0);
    expect(minutesOfDay("23:59")).toBe(23 * 60 + 59);
    for (const bad of ["24:00", "7:00", "07:60", "", "07:00:00"]) expect(minutesOfDay(bad)).toBeNull();
  });

  it("covers a same-day window from its start, up to but not including its end", () => {
    const lunch = dnd("12:00", "13:00");
    expect(isDoNotDisturb(lunch, at("2026-11-22T11:59:00Z"))).toBe(false);
    expect(isDoNotDisturb(lunch, at("2026-11-22T12:00:00Z"))).toBe(true);
    expect(isDoNotDisturb(lunch, at("2026-11-22T12:59:00Z"))).toBe(true);
    expect(isDoNotDisturb(lunch, at("2026-11-22T13:00:00Z"))).toBe(false);
  });

  it("wraps midnight for a night window", () => {
    const night = dnd("22:00", "07:00");
    expect(isDoNotDisturb(night, at("2026-11-22T21:59:00Z"))).toBe(false);
    expect(isDoNotDisturb(night, at("2026-11-22T23:30:00Z"))).toBe(true);
    expect(isDoNotDisturb(night, at("2026-11-23T03:00:00Z"))).toBe(true);
    expect(isDoNotDisturb(night, at("2026-11-23T07:00:00Z"))).toBe(false);
  });

  it("is read in the person's time zone, summer time included", () => {
    // 22:30 in New York in November (UTC-5) is 03:30 UTC.
    expect(localMinutes(at("2026-11-23T03:30:00Z"), "America/New_York")).toBe(22 * 60 + 30);
    expect(isDoNotDisturb(dnd("22:00", "07:00", "America/New_York"), at("2026-11-23T03:30:00Z"))).toBe(true);
    // In July New York is UTC-4: 02:30 UTC is 22:30 there.
    expect(isDoNotDisturb(dnd("22:00", "07:00", "America/New_York"), at("2026-07-15T02:30:00Z"))).toBe(true);
    expect(isDoNotDisturb(dnd("22:00", "07:00", "Asia/Kolkata"), at("2026-11-22T17:00:00Z"))).toBe(true); // 22:30 IST
  });

  it("is off when disabled, for an empty window, a malformed time, and reads an unknown zone as UTC", () => {
    expect(isDoNotDisturb({ ...dnd("00:00", "23:59"), enabled: false }, at("2026-11-22T12:00:00Z"))).toBe(false);
    expect(isDoNotDisturb(dnd("09:00", "09:00"), at("2026-11-22T09:00:00Z"))).toBe(false);
    expect(isDoNotDisturb(dnd("9am", "17:00"), at("2026-11-22T12:00:00Z"))).toBe(false);
    expect(isDoNotDisturb(dnd("12:00", "13:00", "Mars/Olympus"), at("2026-11-22T12:30:00Z"))).toBe(true);
  });
});

describe("channels for a new message", () => {
  const base: Recipient = {
    viewing: false,
    muted: false,
    preference: { inApp: true, email: true, push: true },
    doNotDisturb: { ...dnd("22:00", "07:00"), enabled: false },
    away: false,
  };
  const noon = at("2026-11-22T12:00:00Z");

  it("tells someone at the app in the app only, and pushes to someone away; both count for the digest", () => {
    expect(deliveryFor(base, noon)).toEqual({ inApp: true, push: false, digest: true });
    expect(deliveryFor({ ...base, away: true }, noon)).toEqual({ inApp: true, push: true, digest: true });
    expect(deliveryFor({ ...base, away: true, preference: { inApp: false, email: true, push: false } }, noon)).toEqual({
      inApp: false,
      push: false,
      digest: true,
    });
    expect(deliveryFor({ ...base, preference: { inApp: true, email: false, push: true } }, noon).digest).toBe(false);
  });

  it("tells nobody who is looking at the conversation or muted it", () => {
    const none = { inApp: false, push: false, digest: false };
    expect(deliveryFor({ ...base, away: true, viewing: true }, noon)).toEqual(none);
    expect(deliveryFor({ ...base, away: true, muted: true }, noon)).toEqual(none);
  });

  it("holds back the bell and the push in do-not-disturb, and keeps the message for the digest", () => {
    expect(deliveryFor({ ...base, away: true, doNotDisturb: dnd("11:00", "13:00") }, noon)).toEqual({
      inApp: false,
      push: false,
      digest: true,
    });
    expect(deliveryFor({ ...base, away: true, doNotDisturb: dnd("13:00", "11:00") }, noon).inApp).toBe(true);
  });
});

describe("collapsing a burst", () => {
  const now = at("2026-11-22T12:00:00Z");
  it("joins an unread notification touched within the window, and nothing else", () => {
    expect(joinsLatest(null, now)).toBe(false);
    expect(joinsLatest({ readAt: null, updatedAt: new Date(now.getTime() - 1_000) }, now)).toBe(true);
    expect(joinsLatest({ readAt: null, updatedAt: new Date(now.getTime() - COLLAPSE_WINDOW_MS) }, now)).toBe(false);
    expect(joinsLatest({ readAt: new Date(now.getTime() - 500), updatedAt: new Date(now.getTime() - 1_000) }, now)).toBe(false);
  });
});

describe("a push per burst", () => {
  const now = at("2026-11-22T12:00:00Z");
  const ago = (ms: number) => new Date(now.getTime() - ms);
  it("pushes the first message, one after a quiet window, and one after the conversation was read", () => {
    expect(startsPushBurst(null, null, now)).toBe(true);
    expect(startsPushBurst(ago(60_000), null, now)).toBe(false);
    expect(startsPushBurst(ago(COLLAPSE_WINDOW_MS), null, now)).toBe(true);
    expect(startsPushBurst(ago(60_000), ago(30_000), now)).toBe(true);
    expect(startsPushBurst(ago(60_000), ago(90_000), now)).toBe(false);
  });
});
