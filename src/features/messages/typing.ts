import type { SessionUser } from "~/features/auth/contracts";
import { requireMembership } from "~/features/conversations/membership";
import type { EventHub } from "~/features/events/event-hub";
import { instanceActivity } from "~/features/ops/activity";
import { requireMessagingEnabled } from "~/features/settings/settings.service";
import type { Db } from "~/server/db/client";

// Typing indicators go to the conversation's other members only, at most once
// per THROTTLE_MS per person and conversation while typing continues, and carry
// when they expire (the settings' typingIndicatorTimeout) so a lost "stopped"
// never leaves one on screen. A "stopped" is always passed on (it may end a
// "typing" another instance passed on, and each report counts against the user's
// typing budget), but does not reset the throttle: a "typing" right after it waits
// MIN_GAP_MS, so alternating reports cannot make two fan-outs per call pair. The
// client repeats "typing" while its user types, so one dropped here is made good
// by the next.

const THROTTLE_MS = 2_000;
const MIN_GAP_MS = 500;

interface LastReport {
  /** When the last report was passed on. */
  passedAt: number;
  /** Whether it was "typing". */
  typing: boolean;
}

export class TypingNotifier {
  private readonly lastSent = new Map<string, LastReport>();

  constructor(private readonly hub: EventHub) {}

  async report(prisma: Db, user: SessionUser, input: { conversationId: string; isTyping: boolean }): Promise<{ ok: true }> {
    const limits = await requireMessagingEnabled(prisma);
    await requireMembership(prisma, input.conversationId, user.id);
    const key = `${user.id}:${input.conversationId}`;
    const now = Date.now();
    const last = this.lastSent.get(key);
    if (input.isTyping && last && now - last.passedAt < (last.typing ? THROTTLE_MS : MIN_GAP_MS)) return { ok: true };
    this.lastSent.set(key, { passedAt: now, typing: input.isTyping });
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
    for (const [key, last] of this.lastSent) if (last.passedAt < cutoff) this.lastSent.delete(key);
  }
}
