import superjson from "superjson";
import { describe, expect, it } from "vitest";
import { freezeForFanOut } from "~/server/realtime/fan-out";
import { serverTransformer } from "./transformer";

describe("the server's transformer", () => {
  it("serializes a frozen event once for all its recipients, exactly as superjson would", () => {
    const payload = freezeForFanOut({ type: "message.created", message: { id: "m1", seq: 3, at: new Date(0), tags: ["a"] } });
    const first = serverTransformer.output.serialize(payload);
    expect(serverTransformer.output.serialize(payload)).toBe(first);
    expect(first).toEqual(superjson.serialize(payload));
    expect(Object.isFrozen(payload.message.tags)).toBe(true);
  });

  it("shares a frozen event's serialization inside the { id, data } envelope tRPC makes per recipient", () => {
    const payload = freezeForFanOut(JSON.parse('{"type":"message.created","message":{"id":"m1","seq":3,"createdAt":"2026-01-01T00:00:00.000Z"}}'));
    const forAna = serverTransformer.output.serialize({ id: "41", data: payload });
    const forBen = serverTransformer.output.serialize({ id: "41", data: payload });
    expect(forAna).toEqual(superjson.serialize({ id: "41", data: payload }));
    expect((forBen.json as { data: unknown }).data).toBe((forAna.json as { data: unknown }).data);
    // With something superjson must annotate inside, the envelope is serialized in full.
    const dated = freezeForFanOut({ at: new Date(0) });
    expect(serverTransformer.output.serialize({ id: "42", data: dated })).toEqual(superjson.serialize({ id: "42", data: dated }));
  });

  it("serializes anything not frozen afresh, so a value changed between two answers is never stale", () => {
    const settings = { maxMessageLength: 1000 };
    expect(serverTransformer.output.serialize(settings)).toEqual(superjson.serialize({ maxMessageLength: 1000 }));
    settings.maxMessageLength = 2000;
    expect(serverTransformer.output.serialize(settings)).toEqual(superjson.serialize({ maxMessageLength: 2000 }));
  });
});
