import type { SessionUser } from "~/features/auth/contracts";
import { requireMembership } from "~/features/conversations/membership";
import type { EventHub } from "~/features/events/event-hub";
import { instanceActivity } from "~/features/ops/activity";
import { requireMessagingEnabled } from "~/features/settings/settings.service";
import type { Db } from "~/server/db/client";

// Typing indicators go to the conversation's other members only, at most once
// per THROTTLE_MS per person and conversation while typing continues, and carry
// when they expire (the settings' typingIndicatorTimeout) so a lost "stopped"
// never leaves one on screen.

const THROTTLE_MS = 2_000;

export class TypingNotifier {
  private readonly lastSent = new Map<string, number>();

  constructor(private readonly hub: EventHub) {}

  async report(prisma: Db, user: SessionUser, input: { conversationId: string; isTyping: boolean }): Promise<{ ok: true }> {
    const limits = await requireMessagingEnabled(prisma);
    await requireMembership(prisma, input.conversationId, user.id);
    const key = `${user.id}:${input.conversationId}`;
    const now = Date.now();
    if (input.isTyping) {
      const last = this.lastSent.get(key);
      if (last !== undefined && now - last < THROTTLE_MS) return { ok: true };
      this.lastSent.set(key, now);
    } else {
      this.lastSent.delete(key);
    }
    if (this.lastSent.size > 10_000) this.forgetOlderThan(now - THROTTLE_MS);
    instanceActivity().noteTyping(user.id, input.conversationId, input.isTyping ? now + limits.typingIndicatorTimeout : null);
    await this.hub.publishEphemeral({
      conversationId: input.conversationId,
      exceptUserId: user.id,
      event: {
        type: "typing",
        conversationId: input.conversationId,
        userId: user.id,
        isTyping: input.isTyping,
        expiresAt: new Date(now + limits.typingIndicatorTimeout).toISOString(),
      },
    });
    return { ok: true };
  }

  private forgetOlderThan(cutoff: number) {
    for (const [key, at] of this.lastSent) if (at < cutoff) this.lastSent.delete(key);
  }
}
