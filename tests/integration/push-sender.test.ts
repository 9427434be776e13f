import { request } from "node:https";
import webpush from "web-push";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createPushSender,
  isValidPushSubscription,
  PUSH_TTL_SECONDS,
  PushSendError,
  pushTopic,
  type PushPayload,
  type PushSender,
} from "~/features/notifications/push/push-sender";
import { startPushService, type FakePushService, type FakeSubscription } from "../helpers/push-service";

// Web push end to end against a push service of our own on 127.0.0.1 (no network,
// no database): what the browser decrypts, what the service checks, and what the
// sender makes of its answers.

const SUBJECT = "mailto:push-test@example.com";
let service: FakePushService;
let keys: webpush.VapidKeys;
let sender: PushSender;

const payload = (overrides: Partial<PushPayload> = {}): PushPayload => ({
  title: "Ada in #general",
  body: "Lunch at noon? 🍜",
  link: "/messages/conv_1",
  tag: "conversation:conv_1",
  notificationId: "ntf_1",
  ...overrides,
});

beforeAll(async () => {
  service = await startPushService();
  keys = webpush.generateVAPIDKeys();
  sender = createPushSender({ ...keys, subject: SUBJECT, agent: service.agent })!;
});
afterAll(async () => {
  await service?.close();
});

/** Posts a request web-push built, after `tamper` has had its way with the headers. */
async function postRaw(
  subscription: FakeSubscription,
  tamper: (headers: Record<string, string | number>) => void,
  /** Whose origin the JWT is signed for (its aud); the subscription's endpoint by default. */
  signedFor = subscription.keys.endpoint,
): Promise<number> {
  const { endpoint, p256dh, auth } = subscription.keys;
  const details = webpush.generateRequestDetails({ endpoint: signedFor, keys: { p256dh, auth } }, "{}", {
    vapidDetails: { subject: SUBJECT, ...keys },
  });
  const headers = { ...details.headers } as Record<string, string | number>;
  tamper(headers);
  return new Promise((resolve, reject) => {
    const req = request(endpoint, { method: "POST", headers, agent: service.agent }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode!));
    });
    req.on("error", reject);
    req.end(details.body);
  });
}

describe("sending", () => {
  it("delivers an encrypted, VAPID-signed push that the browser's keys decrypt to what was sent", async () => {
    const subscription = service.createSubscription({ applicationServerKey: keys.publicKey });
    expect(isValidPushSubscription(subscription.keys)).toBe(true);
    await expect(sender.send(subscription.keys, payload())).resolves.toBe("sent");
    const push = await service.waitForPush((p) => p.endpoint === subscription.keys.endpoint);
    expect(push.payload).toEqual(payload());
    expect(push.vapidPublicKey).toBe(keys.publicKey);
    expect(push.claims).toMatchObject({ aud: service.origin, sub: SUBJECT });
    expect(push.ttl).toBe(PUSH_TTL_SECONDS);
    expect(push.urgency).toBe("normal");
    expect(push.topic).toBe(pushTopic("conversation:conv_1"));
    expect(sender.publicKey).toBe(keys.publicKey);
  });

  it("derives one valid topic per tag, so a burst to one conversation keeps only its newest push", async () => {
    const long = `conversation:${"c".repeat(200)}`;
    for (const tag of ["conversation:conv_1", long, "ünïcode tag/with+chars"]) {
      const topic = pushTopic(tag)!;
      expect(topic).toMatch(/^[A-Za-z0-9_-]{1,32}$/);
      expect(pushTopic(tag)).toBe(topic);
    }
    expect(pushTopic("conversation:conv_1")).not.toBe(pushTopic("conversation:conv_2"));
    expect(pushTopic("")).toBeUndefined();

    const subscription = service.createSubscription();
    await sender.send(subscription.keys, payload({ tag: long, body: "first" }));
    await sender.send(subscription.keys, payload({ tag: long, body: "second" }));
    const pushes = service.received.filter((p) => p.endpoint === subscription.keys.endpoint);
    expect(pushes.map((p) => p.topic)).toEqual([pushTopic(long), pushTopic(long)]);
  });

  it("shortens a long body rather than being refused for size", async () => {
    const subscription = service.createSubscription();
    await expect(sender.send(subscription.keys, payload({ body: "😀".repeat(5000) }))).resolves.toBe("sent");
    const push = await service.waitForPush((p) => p.endpoint === subscription.keys.endpoint);
    const body = (push.payload as PushPayload).body;
    // At most 300 UTF-16 units, cut between whole emoji.
    expect(body.length).toBeLessThanOrEqual(300);
    expect(body).toBe(`${"😀".repeat(149)}…`);
  });
});

describe("the push service's checks", () => {
  it("takes a genuine VAPID JWT and refuses a tampered signature, a key that did not sign it, none, and one for another origin", async () => {
    const subscription = service.createSubscription();
    expect(await postRaw(subscription, () => {})).toBe(201);
    const flipLastSignatureChar = (headers: Record<string, string | number>) => {
      headers.Authorization = String(headers.Authorization).replace(/t=([^,]+)/, (_all, jwt: string) => {
        const last = jwt.at(-2) === "A" ? "B" : "A";
        return `t=${jwt.slice(0, -2)}${last}${jwt.at(-1)}`;
      });
    };
    expect(await postRaw(subscription, flipLastSignatureChar)).toBe(401);
    expect(service.rejected.at(-1)?.reason).toMatch(/signature/);

    // The k of other keys: the signature is checked against k, so it fails.
    const other = webpush.generateVAPIDKeys();
    expect(await postRaw(subscription, (h) => (h.Authorization = String(h.Authorization).replace(/k=.*$/, `k=${other.publicKey}`)))).toBe(401);
    expect(await postRaw(subscription, (h) => delete h.Authorization)).toBe(401);

    // A valid JWT for another push service cannot be replayed to this one.
    expect(await postRaw(subscription, () => {}, "https://push.example.com/push/abc")).toBe(401);
    expect(service.rejected.at(-1)?.reason).toMatch(/aud https:\/\/push\.example\.com is not/);
  });

  it("refuses (403) a sender with other VAPID keys than the subscription was made with", async () => {
    const subscription = service.createSubscription({ applicationServerKey: keys.publicKey });
    const stranger = createPushSender({ ...webpush.generateVAPIDKeys(), subject: SUBJECT, agent: service.agent })!;
    const error = await stranger.send(subscription.keys, payload()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PushSendError);
    expect(error).toMatchObject({ statusCode: 403, retryable: false });
  });
});

describe("answers", () => {
  it("reports a gone subscription (410, and 404) as expired, for the caller to delete", async () => {
    const subscription = service.createSubscription();
    service.expire(subscription.keys.endpoint);
    await expect(sender.send(subscription.keys, payload())).resolves.toBe("expired");
    const unknown = { ...service.createSubscription().keys, endpoint: `${service.origin}/push/never-made` };
    await expect(sender.send(unknown, payload())).resolves.toBe("expired");
  });

  it("throws on a 503 or 429, with the status and Retry-After, so the job is retried; then delivers", async () => {
    const subscription = service.createSubscription();
    service.failNext(1, 503);
    const unavailable = await sender.send(subscription.keys, payload()).catch((e: unknown) => e);
    expect(unavailable).toBeInstanceOf(PushSendError);
    expect(unavailable).toMatchObject({ statusCode: 503, retryable: true });

    service.failNext(1, 429, { "retry-after": "120" });
    await expect(sender.send(subscription.keys, payload())).rejects.toMatchObject({ statusCode: 429, retryAfterSeconds: 120, retryable: true });

    await expect(sender.send(subscription.keys, payload())).resolves.toBe("sent");
  });

  it("throws without a status when the push service cannot be reached", async () => {
    const subscription = service.createSubscription();
    // A port nobody listens on (the service's own, once closed).
    const down = await startPushService();
    const endpoint = `${down.origin}/push/x`;
    await down.close();
    const error = await sender.send({ ...subscription.keys, endpoint }, payload()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PushSendError);
    expect(error).toMatchObject({ statusCode: undefined, retryable: true });
  });

  it("reports a malformed subscription as expired without sending it anywhere", async () => {
    const good = service.createSubscription().keys;
    const before = service.received.length + service.rejected.length;
    for (const bad of [
      { ...good, p256dh: good.p256dh.slice(0, -4) },
      { ...good, auth: "c2hvcnQ" },
      { ...good, endpoint: good.endpoint.replace("https:", "http:") },
      { ...good, endpoint: "not a url" },
    ]) {
      expect(isValidPushSubscription(bad)).toBe(false);
      await expect(sender.send(bad, payload())).resolves.toBe("expired");
    }
    expect(service.received.length + service.rejected.length).toBe(before);
  });
});

describe("configuration", () => {
  it("is off (null) without both keys", () => {
    expect(createPushSender({ subject: SUBJECT })).toBeNull();
    expect(createPushSender({ publicKey: keys.publicKey, subject: SUBJECT })).toBeNull();
    expect(createPushSender({ privateKey: keys.privateKey, subject: SUBJECT })).toBeNull();
    expect(createPushSender({ publicKey: "", privateKey: "", subject: SUBJECT })).toBeNull();
  });

  it("refuses keys and subjects that could never work, at creation rather than on every push", () => {
    const other = webpush.generateVAPIDKeys();
    expect(() => createPushSender({ publicKey: keys.publicKey, privateKey: other.privateKey, subject: SUBJECT })).toThrow(/does not belong/);
    expect(() => createPushSender({ publicKey: "short", privateKey: keys.privateKey, subject: SUBJECT })).toThrow(/VAPID_PUBLIC_KEY/);
    expect(() => createPushSender({ publicKey: keys.publicKey, privateKey: "short", subject: SUBJECT })).toThrow(/VAPID_PRIVATE_KEY/);
    expect(() => createPushSender({ ...keys, subject: "http://localhost:3000" })).toThrow(/subject/);
  });

  it("keeps each sender's keys to itself (no process-wide VAPID details)", async () => {
    const second = webpush.generateVAPIDKeys();
    const secondSender = createPushSender({ ...second, subject: SUBJECT, agent: service.agent })!;
    const a = service.createSubscription({ applicationServerKey: keys.publicKey });
    const b = service.createSubscription({ applicationServerKey: second.publicKey });
    await Promise.all([sender.send(a.keys, payload()), secondSender.send(b.keys, payload())]);
    expect(service.received.find((p) => p.endpoint === a.keys.endpoint)?.vapidPublicKey).toBe(keys.publicKey);
    expect(service.received.find((p) => p.endpoint === b.keys.endpoint)?.vapidPublicKey).toBe(second.publicKey);
  });
});
