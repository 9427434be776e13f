import { truncate } from "../preview-text";
import { createECDH, createHash, ECDH } from "node:crypto";
import type { Agent } from "node:https";
import webpush from "web-push";

// Sends one web push (RFC 8030) to one browser subscription: the payload is
// encrypted for the browser (RFC 8291, aes128gcm) and the request is signed with
// our VAPID key (RFC 8292), all by `web-push`. The caller deletes a subscription
// this reports "expired" and retries (with backoff) on a thrown PushSendError.

export interface PushSubscriptionKeys {
  endpoint: string;
  p256dh: string;
  auth: string;
}

export interface PushPayload {
  title: string;
  body: string;
  /** A path of ours (`/messages/<id>`); the service worker refuses other origins. */
  link: string;
  /** One per conversation: a burst replaces the notification shown, rather than stacking. */
  tag: string;
  notificationId?: string;
}

/** "expired": the subscription can never be delivered to again (404/410, or malformed); delete it. */
export type PushOutcome = "sent" | "expired";

export interface PushSender {
  readonly publicKey: string;
  send(subscription: PushSubscriptionKeys, payload: PushPayload): Promise<PushOutcome>;
}

export interface PushSenderConfig {
  publicKey?: string;
  privateKey?: string;
  /** mailto: or https: — whom a push service contacts about our traffic. */
  subject: string;
  /** For TLS settings (tests trust their fake push service's certificate with it). */
  agent?: Agent;
  timeoutMs?: number;
}

/** A notification about a chat is worthless after a day; past it the push service drops it. */
export const PUSH_TTL_SECONDS = 24 * 60 * 60;
export const PUSH_TIMEOUT_MS = 10_000;
/** More than a notification shows; keeps the encrypted body under push services' 4 KB limit. */
const MAX_TITLE_CHARS = 100;
const MAX_BODY_CHARS = 300;
/** 4096 bytes of record, less the aes128gcm header (86), tag (16) and delimiter (1). */
const MAX_PLAINTEXT_BYTES = 3993;

/** A push the service did not take, for a reason that may pass: the job is retried. */
export class PushSendError extends Error {
  override readonly name = "PushSendError";

  constructor(
    message: string,
    /** The push service's answer; undefined when none came (network, timeout). */
    readonly statusCode: number | undefined,
    /** From a 429's or 503's Retry-After, when the service sent one. */
    readonly retryAfterSeconds?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }

  /**
   * False for answers that will not change on a retry (400 malformed, 401/403 the
   * VAPID key refused, 413 too large): retrying them only delays giving up.
   */
  get retryable(): boolean {
    const status = this.statusCode;
    return status === undefined || status === 408 || status === 429 || status >= 500;
  }
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

function base64urlBytes(text: string): Buffer | null {
  return BASE64URL.test(text) ? Buffer.from(text, "base64url") : null;
}

/** An uncompressed P-256 point, as browsers hand out (p256dh) and VAPID uses. */
export function isValidVapidPublicKey(key: string): boolean {
  const bytes = base64urlBytes(key);
  if (bytes?.length !== 65 || bytes[0] !== 0x04) return false;
  try {
    // Throws unless the point is on the curve.
    ECDH.convertKey(bytes, "prime256v1");
    return true;
  } catch {
    return false;
  }
}

/** What a browser's PushSubscription.toJSON() gives: an https endpoint, a P-256 key and a 16-byte secret. */
export function isValidPushSubscription(subscription: PushSubscriptionKeys): boolean {
  let endpoint: URL;
  try {
    endpoint = new URL(subscription.endpoint);
  } catch {
    return false;
  }
  // web-push speaks only https, whatever the endpoint says.
  if (endpoint.protocol !== "https:") return false;
  return isValidVapidPublicKey(subscription.p256dh) && base64urlBytes(subscription.auth)?.length === 16;
}

/**
 * The Topic header for a tag: a push service keeps only the newest undelivered push
 * per topic, so a phone that was off gets one push per conversation, not the burst.
 * Topics are at most 32 URL-safe base64 characters; a hash fits any tag, and the
 * push service (which reads the header in clear) does not learn conversation ids.
 */
export function pushTopic(tag: string): string | undefined {
  return tag ? createHash("sha256").update(tag).digest("base64url").slice(0, 32) : undefined;
}


function encodePayload(payload: PushPayload): string {
  const json = JSON.stringify({
    title: truncate(payload.title, MAX_TITLE_CHARS),
    body: truncate(payload.body, MAX_BODY_CHARS),
    link: payload.link,
    tag: payload.tag,
    ...(payload.notificationId ? { notificationId: payload.notificationId } : {}),
  });
  // Only an absurd link or tag gets here; the service would answer 413 to every retry.
  if (Buffer.byteLength(json) > MAX_PLAINTEXT_BYTES) throw new PushSendError("push payload too large", 413);
  return json;
}

function retryAfter(headers: Record<string, string | string[] | undefined> | undefined): number | undefined {
  const value = headers?.["retry-after"];
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text);
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/**
 * A sender for these VAPID keys, or null when they are not configured (no push).
 * Throws on keys or a subject that cannot work, so a bad configuration stops the
 * start instead of failing every push.
 */
export function createPushSender(config: PushSenderConfig): PushSender | null {
  const { publicKey, privateKey, subject } = config;
  if (!publicKey || !privateKey) return null;
  if (!isValidVapidPublicKey(publicKey)) throw new Error("VAPID_PUBLIC_KEY is not a P-256 public key in URL-safe base64");
  const secret = base64urlBytes(privateKey);
  if (secret?.length !== 32) throw new Error("VAPID_PRIVATE_KEY is not a 32-byte key in URL-safe base64");
  // A mismatched pair signs pushes that every push service refuses (403), silently.
  const ecdh = createECDH("prime256v1");
  ecdh.setPrivateKey(secret);
  if (ecdh.getPublicKey("base64url") !== publicKey) throw new Error("VAPID_PRIVATE_KEY does not belong to VAPID_PUBLIC_KEY");
  if (!/^(mailto:|https:\/\/)/.test(subject)) throw new Error("the VAPID subject must be a mailto: or https:// URL");

  // Per call rather than webpush.setVapidDetails: that one is process-wide.
  const vapidDetails = { subject, publicKey, privateKey };
  const timeout = config.timeoutMs ?? PUSH_TIMEOUT_MS;

  return {
    publicKey,
    async send(subscription, payload) {
      if (!isValidPushSubscription(subscription)) return "expired";
      const body = encodePayload(payload);
      const topic = pushTopic(payload.tag);
      try {
        await webpush.sendNotification({ endpoint: subscription.endpoint, keys: { p256dh: subscription.p256dh, auth: subscription.auth } }, body, {
          vapidDetails,
          TTL: PUSH_TTL_SECONDS,
          urgency: "normal",
          ...(topic ? { topic } : {}),
          timeout,
          ...(config.agent ? { agent: config.agent } : {}),
        });
        return "sent";
      } catch (error) {
        if (error instanceof webpush.WebPushError) {
          // The browser unsubscribed, or the subscription expired: it will never work again.
          if (error.statusCode === 404 || error.statusCode === 410) return "expired";
          const detail = error.body ? `: ${error.body.slice(0, 200)}` : "";
          throw new PushSendError(`push service answered ${error.statusCode}${detail}`, error.statusCode, retryAfter(error.headers), { cause: error });
        }
        const reason = error instanceof Error ? error.message : String(error);
        throw new PushSendError(`push request failed: ${reason}`, undefined, undefined, { cause: error });
      }
    },
  };
}
