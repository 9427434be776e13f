import { describe, expect, it } from "vitest";
import { ACTIVE_WINDOW_MS, InstanceActivity } from "./activity";

describe("InstanceActivity", () => {
  it("counts a typing user until the indicator expires or they stop", () => {
    const activity = new InstanceActivity();
    activity.noteTyping("u1", "c1", 5_000, 0);
    activity.noteTyping("u1", "c2", 5_000, 0);
    activity.noteTyping("u2", "c1", 3_000, 0);
    expect(activity.snapshot(1_000).typingUserIds.sort()).toEqual(["u1", "u2"]);
    expect(activity.snapshot(4_000).typingUserIds).toEqual(["u1"]);
    activity.noteTyping("u1", "c1", null, 4_500);
    activity.noteTyping("u1", "c2", null, 4_500);
    expect(activity.snapshot(4_600).typingUserIds).toEqual([]);
  });

  it("keeps a conversation active for the window after its last message or typing", () => {
    const activity = new InstanceActivity();
    activity.noteMessage("c1", 0);
    activity.noteTyping("u1", "c2", 1_000, 10);
    activity.noteMessage("c1", 60_000);
    expect(activity.snapshot(ACTIVE_WINDOW_MS + 20).activeConversationIds).toEqual(["c1"]);
    expect(activity.snapshot(60_000 + ACTIVE_WINDOW_MS).activeConversationIds).toEqual([]);
  });
});
