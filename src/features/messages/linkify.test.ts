import { describe, expect, it } from "vitest";
import { linkify } from "./linkify";

describe("linkify", () => {
  it("turns http(s) and www links into links and leaves the rest as text", () => {
    expect(linkify("see https://example.com/a?b=1 and www.example.org now")).toEqual([
      { kind: "text", text: "see " },
      { kind: "link", text: "https://example.com/a?b=1", href: "https://example.com/a?b=1" },
      { kind: "text", text: " and " },
      { kind: "link", text: "www.example.org", href: "https://www.example.org/" },
      { kind: "text", text: " now" },
    ]);
  });

  it("leaves sentence punctuation outside the link but keeps balanced brackets", () => {
    expect(linkify("Read https://example.com/x.")[1]).toEqual({ kind: "link", text: "https://example.com/x", href: "https://example.com/x" });
    expect(linkify("(see https://en.wikipedia.org/wiki/Tea_(drink))")[1]).toMatchObject({
      text: "https://en.wikipedia.org/wiki/Tea_(drink)",
    });
  });

  it("never makes a link of another scheme or of markup", () => {
    for (const text of ["javascript:alert(1)", "data:text/html,<b>x</b>", '<a href="https://x.test">x</a>', "mailto:a@b.c"]) {
      const links = linkify(text).filter((segment) => segment.kind === "link");
      for (const link of links) expect(link.kind === "link" && /^https?:\/\//.test(link.href)).toBe(true);
    }
    expect(linkify("javascript:alert(1)")).toEqual([{ kind: "text", text: "javascript:alert(1)" }]);
    expect(linkify('<a href="https://x.test">x</a>').find((s) => s.kind === "link")).toMatchObject({ text: "https://x.test" });
  });

  it("gives back plain text unchanged", () => {
    expect(linkify("just words")).toEqual([{ kind: "text", text: "just words" }]);
    expect(linkify("")).toEqual([]);
  });
});
