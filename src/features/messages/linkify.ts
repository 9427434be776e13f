// Finds web links in plain message text so the bubble can render them as anchors.
// Only http(s) links become links (never javascript:, data: or other schemes), and
// the text around them stays text: nothing here is ever inserted as HTML.

export type TextSegment = { kind: "text"; text: string } | { kind: "link"; text: string; href: string };

const LINK_PATTERN = /\b(?:https?:\/\/|www\.)[^\s<>"']+/gi;
/** Punctuation that usually ends a sentence rather than the link. */
const TRAILING_PUNCTUATION = /[.,;:!?)\]}'"]/;

function count(text: string, char: string): number {
  return text.split(char).length - 1;
}

/** Drop sentence punctuation after a link, but keep a ")" that closes a "(" inside it. */
function trimLink(candidate: string): string {
  let end = candidate.length;
  while (end > 0 && TRAILING_PUNCTUATION.test(candidate[end - 1]!)) {
    const body = candidate.slice(0, end);
    if (candidate[end - 1] === ")" && count(body, "(") >= count(body, ")")) break;
    end -= 1;
  }
  return candidate.slice(0, end);
}

function safeHref(candidate: string): string | null {
  try {
    const url = new URL(candidate.startsWith("www.") ? `https://${candidate}` : candidate);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

export function linkify(text: string): TextSegment[] {
  const segments: TextSegment[] = [];
  let last = 0;
  for (const match of text.matchAll(LINK_PATTERN)) {
    const candidate = trimLink(match[0]);
    const href = safeHref(candidate);
    if (!href || candidate.length === 0) continue;
    const start = match.index;
    if (start > last) segments.push({ kind: "text", text: text.slice(last, start) });
    segments.push({ kind: "link", text: candidate, href });
    last = start + candidate.length;
  }
  if (last < text.length) segments.push({ kind: "text", text: text.slice(last) });
  return segments;
}
