// Previews of someone's message in a bell, a push and an email: cut where a
// reader would see a character end, never inside an emoji or a surrogate pair.

const graphemes = new Intl.Segmenter("en", { granularity: "grapheme" });

/**
 * `text` cut to at most `max` code units with an ellipsis, at a character boundary:
 * never inside a surrogate pair, nor inside an emoji sequence or a letter with its accents.
 */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const room = max - 1;
  let kept = "";
  for (const { segment } of graphemes.segment(text)) {
    if (kept.length + segment.length > room) break;
    kept += segment;
  }
  // One giant cluster at the start (a letter under a thousand accents): fall back to code points.
  if (kept === "") {
    for (const codePoint of text) {
      if (kept.length + codePoint.length > room) break;
      kept += codePoint;
    }
  }
  return `${kept.trimEnd()}…`;
}

/** A preview in the bell and in a push: enough to recognise the message. */
const PREVIEW_LENGTH = 140;

/** What a notification says of a message: its text, after the sender's name in a group. */
export function previewBody(conversationType: "DIRECT" | "GROUP", senderName: string, content: string): string {
  const preview = truncate(content.replace(/\s+/g, " ").trim(), PREVIEW_LENGTH);
  return conversationType === "DIRECT" ? preview : `${senderName}: ${preview}`;
}
