import type { Attachment } from "~/features/attachments/contracts";
import type { Message } from "./contracts";

// The durable outbox: a message is written here before it is sent, shown at once as
// "sending", and stays until the server has it. Entries live in localStorage, so a
// reload or a lost connection loses nothing; retries are safe because the server
// keeps one message per (sender, clientMessageId). Sends go one at a time, oldest
// first, so what one person writes arrives in the order they wrote it.

export interface OutboxEntry {
  clientMessageId: string;
  conversationId: string;
  content: string;
  createdAt: number;
  state: "sending" | "failed";
  /** The server's reason, when it refused the message. */
  error?: string;
  /** Files uploaded before the message went into the outbox (entries written before attachments have none). */
  attachments?: Attachment[];
}

/** The ids of an entry's files, as the send takes them. */
export function attachmentIdsOf(entry: OutboxEntry): string[] {
  return Array.isArray(entry.attachments) ? entry.attachments.map((attachment) => attachment.id) : [];
}

export interface OutboxStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

type Listener = () => void;

export class OutboxStore {
  private entries: OutboxEntry[];
  private listeners = new Set<Listener>();

  constructor(
    private readonly storage: OutboxStorage | null,
    private readonly key: string,
  ) {
    this.entries = this.read();
  }

  subscribe = (listener: Listener) => {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  };

  /** A stable snapshot (a new array only after a change), as useSyncExternalStore needs. */
  getSnapshot = () => this.entries;

  /** Another tab changed the stored outbox. */
  reload() {
    this.entries = this.read();
    this.changed(false);
  }

  add(entry: Omit<OutboxEntry, "state" | "createdAt">) {
    this.mutate((entries) => [...entries, { ...entry, state: "sending", createdAt: Date.now() }]);
  }

  nextToSend(): OutboxEntry | undefined {
    return this.entries.find((entry) => entry.state === "sending");
  }

  remove(clientMessageId: string) {
    if (!this.entries.some((entry) => entry.clientMessageId === clientMessageId)) return;
    this.mutate((entries) => entries.filter((entry) => entry.clientMessageId !== clientMessageId));
  }

  fail(clientMessageId: string, error: string) {
    this.update(clientMessageId, { state: "failed", error });
  }

  retry(clientMessageId: string) {
    this.update(clientMessageId, { state: "sending", error: undefined });
  }

  private update(clientMessageId: string, patch: Partial<OutboxEntry>) {
    this.mutate((entries) => entries.map((entry) => (entry.clientMessageId === clientMessageId ? { ...entry, ...patch } : entry)));
  }

  /**
   * Other tabs of the same person write the same stored outbox: each change is made
   * to what is stored now, not to this tab's copy, so one tab never overwrites
   * another's new message.
   */
  private mutate(change: (entries: OutboxEntry[]) => OutboxEntry[]) {
    this.entries = change(this.storage ? this.read() : this.entries);
    this.changed();
  }

  private read(): OutboxEntry[] {
    try {
      const parsed: unknown = JSON.parse(this.storage?.getItem(this.key) ?? "[]");
      return Array.isArray(parsed) ? (parsed as OutboxEntry[]).filter((entry) => typeof entry?.clientMessageId === "string") : [];
    } catch {
      return [];
    }
  }

  private changed(persist = true) {
    if (persist) {
      try {
        this.storage?.setItem(this.key, JSON.stringify(this.entries));
      } catch {
        // Storage full or blocked: the outbox still works for this page's life.
      }
    }
    for (const listener of this.listeners) listener();
  }
}

/** What a send attempt's failure means for the entry. */
export type SendFailure =
  | { kind: "retry" }
  /** Rate limited: keep the message (and the ones after it) waiting, then try again. */
  | { kind: "wait"; ms: number; message: string }
  | { kind: "refused"; message: string };

export interface OutboxRunnerOptions {
  store: OutboxStore;
  /** Must give up when `signal` aborts. */
  send(entry: OutboxEntry, signal: AbortSignal): Promise<Message>;
  classify(error: unknown): SendFailure;
  onSent(entry: OutboxEntry, message: Message): void;
  onRefused(entry: OutboxEntry, message: string): void;
  /** Told once per rate-limit pause. */
  onWait?(entry: OutboxEntry, message: string, ms: number): void;
  /** Delays between automatic retries; the last one repeats. */
  backoffMs?: number[];
  /** A send with no answer by then is abandoned and retried (a half-open connection never answers). */
  sendTimeoutMs?: number;
}

const DEFAULT_BACKOFF_MS = [500, 1_000, 2_000, 5_000, 10_000, 30_000];
const DEFAULT_SEND_TIMEOUT_MS = 15_000;

/** Drains the outbox one message at a time; `kick()` whenever sending may work again. */
export class OutboxRunner {
  private running = false;
  private failures = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(private readonly options: OutboxRunnerOptions) {}

  kick = () => {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.running) void this.drain();
  };

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private async drain() {
    this.running = true;
    try {
      for (let entry = this.options.store.nextToSend(); entry && !this.stopped; entry = this.options.store.nextToSend()) {
        const abort = new AbortController();
        const timeout = setTimeout(() => abort.abort(new Error("The send timed out")), this.options.sendTimeoutMs ?? DEFAULT_SEND_TIMEOUT_MS);
        try {
          const message = await this.sendOrAbort(entry, abort.signal);
          this.failures = 0;
          this.options.store.remove(entry.clientMessageId);
          this.options.onSent(entry, message);
        } catch (error) {
          // A send abandoned for taking too long is always worth another try.
          const failure: SendFailure = abort.signal.aborted ? { kind: "retry" } : this.options.classify(error);
          if (failure.kind === "refused") {
            this.options.store.fail(entry.clientMessageId, failure.message);
            this.options.onRefused(entry, failure.message);
            continue;
          }
          if (failure.kind === "wait") {
            this.options.onWait?.(entry, failure.message, failure.ms);
            this.timer = setTimeout(this.kick, failure.ms);
            return;
          }
          // Offline or the server is unreachable: keep order, try again later.
          const delays = this.options.backoffMs ?? DEFAULT_BACKOFF_MS;
          const delay = delays[Math.min(this.failures, delays.length - 1)]!;
          this.failures += 1;
          this.timer = setTimeout(this.kick, delay);
          return;
        } finally {
          clearTimeout(timeout);
        }
      }
    } finally {
      this.running = false;
    }
  }

  /** The send, or its abandonment when the signal fires, whichever is first. */
  private sendOrAbort(entry: OutboxEntry, signal: AbortSignal): Promise<Message> {
    return new Promise<Message>((resolve, reject) => {
      signal.addEventListener("abort", () => reject(signal.reason), { once: true });
      this.options.send(entry, signal).then(resolve, reject);
    });
  }
}
