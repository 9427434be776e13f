import { describe, expect, it } from "vitest";
import { seenBy, seenByLabel, statusOfOwnMessage } from "./message-status";

const me = "00000000-0000-4000-8000-000000000001";
const ana = "00000000-0000-4000-8000-000000000002";
const ben = "00000000-0000-4000-8000-000000000003";
const position = (userId: string, lastDeliveredSeq: number, lastReadSeq: number) => ({ userId, lastDeliveredSeq, lastReadSeq });

describe("statusOfOwnMessage", () => {
  it("is sent, then delivered, then read as the other side moves", () => {
    expect(statusOfOwnMessage(5, [position(me, 5, 5), position(ana, 4, 4)], me)).toBe("sent");
    expect(statusOfOwnMessage(5, [position(me, 5, 5), position(ana, 5, 4)], me)).toBe("delivered");
    expect(statusOfOwnMessage(5, [position(me, 5, 5), position(ana, 5, 5)], me)).toBe("read");
  });
  it("in a group is read only when everyone read it, and a read counts as delivered", () => {
    const positions = [position(me, 9, 9), position(ana, 9, 9), position(ben, 0, 7)];
    expect(statusOfOwnMessage(7, positions, me)).toBe("read");
    expect(statusOfOwnMessage(8, positions, me)).toBe("sent");
    expect(statusOfOwnMessage(8, [position(me, 9, 9), position(ana, 9, 9), position(ben, 8, 0)], me)).toBe("delivered");
  });
});

describe("seenBy", () => {
  const participants = [
    { id: me, name: "Me", image: null },
    { id: ana, name: "Ana", image: null },
    { id: ben, name: "Ben", image: null },
  ];
  it("names who has read up to the message, never the viewer", () => {
    const readers = seenBy(8, [position(me, 9, 9), position(ana, 9, 9), position(ben, 8, 7)], participants, me);
    expect(readers.map((reader) => reader.name)).toEqual(["Ana"]);
    expect(seenByLabel(readers, 3)).toBe("Seen by Ana");
    expect(seenByLabel(participants.slice(1), 3)).toBe("Seen by everyone");
    expect(seenByLabel([], 3)).toBe("");
  });
  it("shortens long lists", () => {
    const many = ["A", "B", "C", "D", "E"].map((name, i) => ({ id: String(i), name, image: null }));
    expect(seenByLabel(many, 10)).toBe("Seen by A, B and 3 others");
  });
});
