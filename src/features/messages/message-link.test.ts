import { describe, expect, it } from "vitest";
import { messageHref, parseMessageTarget } from "./message-link";

const CONVERSATION = "00000000-0000-4000-8000-0000000000cc";
const MESSAGE = "00000000-0000-4000-8000-000000000042";

describe("message links", () => {
  it("round-trips a message's place through the conversation page's address", () => {
    const href = messageHref(CONVERSATION, { messageId: MESSAGE, seq: 42 });
    expect(href).toBe(`/messages/${CONVERSATION}?message=${MESSAGE}&seq=42`);
    expect(parseMessageTarget(new URL(href, "http://localhost").searchParams)).toEqual({ messageId: MESSAGE, seq: 42 });
  });

  it("ignores a malformed or partial target", () => {
    const parse = (query: string) => parseMessageTarget(new URLSearchParams(query));
    expect(parse("")).toBeUndefined();
    expect(parse(`message=${MESSAGE}`)).toBeUndefined();
    expect(parse(`message=${MESSAGE}&seq=0`)).toBeUndefined();
    expect(parse(`message=${MESSAGE}&seq=1.5`)).toBeUndefined();
    expect(parse("message=not-a-uuid&seq=3")).toBeUndefined();
  });
});
