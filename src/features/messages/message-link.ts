// Where a message of a conversation can be opened: the conversation page with the
// message in the query, so a search result is a real link (new tab, Back, shared).

export interface MessageTarget {
  messageId: string;
  /** Where the message sits in its conversation: the view loads the messages around it. */
  seq: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function messageHref(conversationId: string, target: MessageTarget): string {
  const query = new URLSearchParams({ message: target.messageId, seq: String(target.seq) });
  return `/messages/${conversationId}?${query.toString()}`;
}

/** The message a conversation page was asked to open at; undefined for anything malformed (the view opens as usual). */
export function parseMessageTarget(params: Pick<URLSearchParams, "get">): MessageTarget | undefined {
  const messageId = params.get("message");
  const seq = Number(params.get("seq"));
  if (!messageId || !UUID.test(messageId) || !Number.isSafeInteger(seq) || seq < 1) return undefined;
  return { messageId, seq };
}
