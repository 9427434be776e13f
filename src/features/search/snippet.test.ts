import { describe, expect, it } from "vitest";
import { MATCH_END, MATCH_START, parseHeadline, withoutMarkers } from "./snippet";

const mark = (word: string) => `${MATCH_START}${word}${MATCH_END}`;

describe("parseHeadline", () => {
  it("splits marked words into match segments and keeps the text around them", () => {
    const content = "the deploy failed on friday";
    expect(parseHeadline(`the ${mark("deploy")} failed on friday`, content)).toEqual([
      { text: "the ", match: false },
      { text: "deploy", match: true },
      { text: " failed on friday", match: false },
    ]);
  });

  it("joins adjacent marked words of a phrase into one highlight", () => {
    expect(parseHeadline(`${mark("release")}${mark(" ")}${mark("notes")}`, "release notes")).toEqual([
      { text: "release notes", match: true },
    ]);
  });

  it("adds an ellipsis where the passage is cut from a longer message", () => {
    const content = "one two three four five six seven";
    expect(parseHeadline(`three ${mark("four")} five`, content)).toEqual([
      { text: "… three ", match: false },
      { text: "four", match: true },
      { text: " five …", match: false },
    ]);
  });

  it("treats an unclosed marker as a match to the end rather than losing text", () => {
    expect(parseHeadline(`a ${MATCH_START}b`, "a b")).toEqual([
      { text: "a ", match: false },
      { text: "b", match: true },
    ]);
  });

  it("leaves markup-looking text as text", () => {
    const content = `<img src=x onerror=alert(1)> ${"deploy"}`;
    const segments = parseHeadline(`<img src=x onerror=alert(1)> ${mark("deploy")}`, content);
    expect(segments[0]).toEqual({ text: "<img src=x onerror=alert(1)> ", match: false });
  });
});

describe("withoutMarkers", () => {
  it("removes the marker characters a message might contain, so it cannot fake a highlight", () => {
    expect(withoutMarkers(`a${MATCH_START}b${MATCH_END}c`)).toBe("abc");
  });
});
