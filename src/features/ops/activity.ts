// What happened on this instance lately, for the status report: who is typing
// (reported through this instance, until their indicator expires or they stop)
// and which conversations are active. A conversation is active while a message
// was sent to it, or someone typed in it, through this instance within the last
// ACTIVE_WINDOW_MS. In memory only: a restarted instance starts from nothing.

export const ACTIVE_WINDOW_MS = 5 * 60_000;
const MAX_TRACKED = 50_000;

export class InstanceActivity {
  /** "<userId>:<conversationId>" → when the typing indicator expires. */
  private readonly typing = new Map<string, number>();
  /** conversation id → last activity (ms), oldest first. */
  private readonly conversations = new Map<string, number>();

  noteTyping(userId: string, conversationId: string, expiresAt: number | null, now = Date.now()): void {
    const key = `${userId}:${conversationId}`;
    this.typing.delete(key);
    if (expiresAt !== null) this.typing.set(key, expiresAt);
    this.touch(conversationId, now);
    if (this.typing.size > MAX_TRACKED) this.prune(now);
  }

  noteMessage(conversationId: string, now = Date.now()): void {
    this.touch(conversationId, now);
    if (this.conversations.size > MAX_TRACKED) this.prune(now);
  }

  /** Users with an unexpired typing indicator, and conversations active in the window. */
  snapshot(now = Date.now()): { typingUserIds: string[]; activeConversationIds: string[] } {
    this.prune(now);
    const typingUserIds = new Set<string>();
    for (const key of this.typing.keys()) typingUserIds.add(key.slice(0, key.indexOf(":")));
    return { typingUserIds: [...typingUserIds], activeConversationIds: [...this.conversations.keys()] };
  }

  private touch(conversationId: string, now: number) {
    this.conversations.delete(conversationId);
    this.conversations.set(conversationId, now);
  }

  private prune(now: number) {
    for (const [key, expiresAt] of this.typing) if (expiresAt <= now) this.typing.delete(key);
    for (const [id, at] of this.conversations) {
      if (at > now - ACTIVE_WINDOW_MS) break;
      this.conversations.delete(id);
    }
  }
}

const globalForActivity = globalThis as unknown as { __chatlineActivity?: InstanceActivity };

export function instanceActivity(): InstanceActivity {
  return (globalForActivity.__chatlineActivity ??= new InstanceActivity());
}
