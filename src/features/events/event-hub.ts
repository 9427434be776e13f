import type { EventBus } from "~/server/realtime/event-bus";
import type { EventDispatcher } from "~/server/realtime/dispatcher";
import type { StoredEvent } from "~/server/realtime/event-store";
import type { EphemeralEvent } from "./contracts";

// Routes this process's ordered durable events and the bus's ephemeral ones to
// the local subscribers who may see them. Conversation membership is tracked
// from the events themselves (created, members added, member removed), so it
// changes exactly where the stream says it does.

/** An ephemeral event with its audience: a conversation's members, or named users. */
export interface EphemeralEnvelope {
  conversationId?: string;
  userIds?: string[];
  /** Not delivered back to this user (the one typing, say). */
  exceptUserId?: string;
  event: EphemeralEvent;
}

export interface HubSubscriber {
  readonly userId: string;
  deliverDurable(event: StoredEvent): void;
  deliverEphemeral(event: EphemeralEvent): void;
  /** More arrived than can be held; the subscriber should close so its client resumes by cursor. */
  overflow(): void;
}

interface Entry {
  subscriber: HubSubscriber;
  conversations: Set<string>;
  /** Set while catching up: every durable event is kept here until the snapshot is known. */
  backlog: StoredEvent[] | null;
  /** Events at or below this id were replayed to the subscriber already. */
  floor: bigint;
}

/** Durable events one catching-up subscriber may hold before it is told to start over. */
const MAX_BACKLOG = 20_000;

export class EventHub {
  private readonly entries = new Map<HubSubscriber, Entry>();
  private readonly byUser = new Map<string, Set<Entry>>();
  private readonly byConversation = new Map<string, Set<Entry>>();
  private readonly catchingUp = new Set<Entry>();
  private readonly stopListening: (() => void)[] = [];

  constructor(dispatcher: EventDispatcher, private readonly bus: EventBus) {
    this.stopListening.push(dispatcher.addListener((event) => this.onDurable(event)));
    this.stopListening.push(
      bus.subscribe("ephemeral", (message) => {
        try {
          this.onEphemeral(JSON.parse(message) as EphemeralEnvelope);
        } catch {
          // An unreadable ephemeral message is dropped: it is only typing or presence.
        }
      }),
    );
  }

  /**
   * Starts holding every durable event for `subscriber` until goLive() says from
   * which event id on, and with which conversations, live routing applies.
   */
  register(subscriber: HubSubscriber): void {
    const entry: Entry = { subscriber, conversations: new Set(), backlog: [], floor: 0n };
    this.entries.set(subscriber, entry);
    this.catchingUp.add(entry);
    addTo(this.byUser, subscriber.userId, entry);
  }

  /**
   * Switches to live routing. `snapshotEventId` is the newest event the caller's
   * replay covered and `conversationIds` the membership as of that event; held
   * events after it are routed now, in order.
   */
  goLive(subscriber: HubSubscriber, snapshotEventId: bigint, conversationIds: string[]): void {
    const entry = this.entries.get(subscriber);
    if (!entry) return;
    for (const id of conversationIds) this.join(entry, id);
    const backlog = entry.backlog ?? [];
    entry.backlog = null;
    entry.floor = snapshotEventId;
    this.catchingUp.delete(entry);
    for (const event of backlog) this.route(entry, event);
  }

  unregister(subscriber: HubSubscriber): void {
    const entry = this.entries.get(subscriber);
    if (!entry) return;
    this.entries.delete(subscriber);
    this.catchingUp.delete(entry);
    removeFrom(this.byUser, subscriber.userId, entry);
    for (const id of entry.conversations) removeFrom(this.byConversation, id, entry);
  }

  /** Sends an ephemeral event to every instance's matching subscribers. */
  async publishEphemeral(envelope: EphemeralEnvelope): Promise<void> {
    await this.bus.publish("ephemeral", JSON.stringify(envelope));
  }

  /**
   * Delivers an ephemeral event to every subscriber of this process, whoever they
   * are (a settings change); each instance does this for its own subscribers.
   * Those still catching up get it after their replay.
   */
  deliverToEveryone(event: EphemeralEvent): void {
    for (const subscriber of this.entries.keys()) subscriber.deliverEphemeral(event);
  }

  /** This process's subscriptions and the distinct users they belong to (status report). */
  stats(): { subscribers: number; userIds: string[] } {
    return { subscribers: this.entries.size, userIds: [...this.byUser.keys()] };
  }

  close(): void {
    for (const stop of this.stopListening) stop();
  }

  private onDurable(event: StoredEvent) {
    for (const entry of this.catchingUp) {
      entry.backlog?.push(event);
      if ((entry.backlog?.length ?? 0) > MAX_BACKLOG) {
        this.catchingUp.delete(entry);
        entry.backlog = [];
        entry.subscriber.overflow();
      }
    }
    const candidates = new Set<Entry>();
    if (event.userId) for (const entry of this.byUser.get(event.userId) ?? []) candidates.add(entry);
    else if (event.conversationId) {
      for (const entry of this.byConversation.get(event.conversationId) ?? []) candidates.add(entry);
      for (const userId of joiningUserIds(event)) for (const entry of this.byUser.get(userId) ?? []) candidates.add(entry);
    }
    for (const entry of candidates) if (!entry.backlog) this.route(entry, event);
  }

  /** Delivers `event` to one live subscriber if it may see it, keeping membership current. */
  private route(entry: Entry, event: StoredEvent) {
    // This process's dispatcher may still be behind the snapshot the replay read up to.
    if (BigInt(event.id) <= entry.floor) return;
    if (event.userId) {
      if (event.userId === entry.subscriber.userId) entry.subscriber.deliverDurable(event);
      return;
    }
    const conversationId = event.conversationId;
    if (!conversationId) return;
    if (joiningUserIds(event).includes(entry.subscriber.userId)) this.join(entry, conversationId);
    if (!entry.conversations.has(conversationId)) return;
    entry.subscriber.deliverDurable(event);
    if (event.type === "conversation.member_removed" && event.payload.userId === entry.subscriber.userId) {
      entry.conversations.delete(conversationId);
      removeFrom(this.byConversation, conversationId, entry);
    }
  }

  private join(entry: Entry, conversationId: string) {
    entry.conversations.add(conversationId);
    addTo(this.byConversation, conversationId, entry);
  }

  private onEphemeral(envelope: EphemeralEnvelope) {
    const targets = new Set<Entry>();
    if (envelope.conversationId) for (const entry of this.byConversation.get(envelope.conversationId) ?? []) targets.add(entry);
    for (const userId of envelope.userIds ?? []) for (const entry of this.byUser.get(userId) ?? []) targets.add(entry);
    for (const entry of targets) {
      if (entry.backlog || entry.subscriber.userId === envelope.exceptUserId) continue;
      entry.subscriber.deliverEphemeral(envelope.event);
    }
  }
}

/** Users an event makes members of its conversation. */
function joiningUserIds(event: StoredEvent): string[] {
  if (event.type === "conversation.created") {
    const conversation = event.payload.conversation as { participants: { id: string }[] };
    return conversation.participants.map((p) => p.id);
  }
  if (event.type === "conversation.members_added") {
    return (event.payload.participants as { id: string }[]).map((p) => p.id);
  }
  return [];
}

function addTo<K, V>(map: Map<K, Set<V>>, key: K, value: V) {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(value);
}

function removeFrom<K, V>(map: Map<K, Set<V>>, key: K, value: V) {
  const set = map.get(key);
  if (!set) return;
  set.delete(value);
  if (set.size === 0) map.delete(key);
}
