import type { SnippetSegment } from "./contracts";

// ts_headline marks matched words with delimiters of our choosing. Two characters
// from Unicode's private use area are used, and removed from the text before it
// goes to ts_headline, so a message cannot fake a highlight; the marked text is
// then split into segments here and never travels as markup.

export const MATCH_START = "\uE000";
export const MATCH_END = "\uE001";
const ELLIPSIS = "…";

/** The message text as handed to ts_headline: without the two marker characters. */
export function withoutMarkers(text: string): string {
  return text.replaceAll(MATCH_START, "").replaceAll(MATCH_END, "");
}

/**
 * Segments of a ts_headline result. `content` is the whole message (markers
 * removed): a passage that does not start or end where the message does gets an
 * ellipsis there.
 */
export function parseHeadline(headline: string, content: string): SnippetSegment[] {
  const segments: SnippetSegment[] = [];
  const push = (text: string, match: boolean) => {
    if (!text) return;
    const last = segments[segments.length - 1];
    if (last && last.match === match) last.text += text;
    else segments.push({ text, match });
  };
  let rest = headline;
  while (rest.length > 0) {
    const start = rest.indexOf(MATCH_START);
    if (start === -1) {
      push(rest, false);
      break;
    }
    push(rest.slice(0, start), false);
    const end = rest.indexOf(MATCH_END, start + 1);
    if (end === -1) {
      push(rest.slice(start + 1), true);
      break;
    }
    push(rest.slice(start + 1, end), true);
    rest = rest.slice(end + 1);
  }
  const plain = segments.map((segment) => segment.text).join("");
  const body = content.trim();
  if (plain.trim() && !body.startsWith(plain.trimStart())) {
    const first = segments[0]!;
    if (first.match) segments.unshift({ text: `${ELLIPSIS} `, match: false });
    else first.text = `${ELLIPSIS} ${first.text.trimStart()}`;
  }
  if (plain.trim() && !body.endsWith(plain.trimEnd())) push(` ${ELLIPSIS}`, false);
  return segments;
}
