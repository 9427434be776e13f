import { createDecipheriv, createECDH, createPublicKey, generateKeyPairSync, hkdfSync, randomBytes, sign, verify, type ECDH, type KeyObject } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { Agent, createServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { PushSubscriptionKeys } from "~/features/notifications/push/push-sender";

// A web push service on 127.0.0.1 for tests, doing what FCM or Mozilla's autopush
// do with a push: check the VAPID signature (RFC 8292), decrypt the body as the
// browser would (RFC 8291, aes128gcm), and answer 201. Subscriptions are real
// browser-like ones: a P-256 key pair and an auth secret per endpoint.
//
// It speaks HTTPS, with a certificate made at start: web-push sends every push
// over https whatever the endpoint says. Give senders `agent` to trust it.

export interface ReceivedPush {
  endpoint: string;
  /** The decrypted body, parsed as JSON. */
  payload: unknown;
  ttl: number;
  urgency: string | undefined;
  topic: string | undefined;
  vapidPublicKey: string;
  /** The JWT's claims: aud, exp, sub. */
  claims: { aud: string; exp: number; sub: string };
}

export interface RejectedPush {
  endpoint: string;
  status: number;
  reason: string;
}

export interface FakeSubscription {
  keys: PushSubscriptionKeys;
  /** The browser's private half, for decrypting. */
  ecdh: ECDH;
  authSecret: Buffer;
}

export interface FakePushService {
  origin: string;
  /** Trusts this service's certificate: pass it to createPushSender. */
  agent: Agent;
  /** With `applicationServerKey`, pushes signed by another VAPID key are refused (403), as real services do. */
  createSubscription(options?: { applicationServerKey?: string }): FakeSubscription;
  received: ReceivedPush[];
  rejected: RejectedPush[];
  /** The endpoint answers 410 Gone from now on: the browser unsubscribed. */
  expire(endpoint: string): void;
  /** The next `count` pushes (to any endpoint) fail with `status`, before any check. */
  failNext(count: number, status?: number, headers?: Record<string, string>): void;
  waitForPush(predicate?: (push: ReceivedPush) => boolean, timeoutMs?: number): Promise<ReceivedPush>;
  close(): Promise<void>;
}

// --- a self-signed certificate for 127.0.0.1, in DER built by hand (Node makes keys, not certificates)

function der(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  const length =
    body.length < 0x80 ? Buffer.from([body.length]) : body.length < 0x100 ? Buffer.from([0x81, body.length]) : Buffer.from([0x82, body.length >> 8, body.length & 0xff]);
  return Buffer.concat([Buffer.from([tag]), length, body]);
}
const sequence = (...content: Buffer[]) => der(0x30, ...content);
const oid = (bytes: number[]) => der(0x06, Buffer.from(bytes));
const utcTime = (date: Date) => der(0x17, Buffer.from(`${date.toISOString().slice(2, 19).replace(/[-T:]/g, "")}Z`));

const ECDSA_WITH_SHA256 = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]; // 1.2.840.10045.4.3.2
const COMMON_NAME = [0x55, 0x04, 0x03]; // 2.5.4.3
const SUBJECT_ALT_NAME = [0x55, 0x1d, 0x11]; // 2.5.29.17
const BASIC_CONSTRAINTS = [0x55, 0x1d, 0x13]; // 2.5.29.19

function selfSignedCertificate(): { key: string; cert: string } {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const algorithm = sequence(oid(ECDSA_WITH_SHA256));
  const name = sequence(der(0x31, sequence(oid(COMMON_NAME), der(0x0c, Buffer.from("127.0.0.1")))));
  const serial = randomBytes(8);
  serial[0]! &= 0x7f;
  const now = Date.now();
  const extensions = der(
    0xa3,
    sequence(
      // CA:TRUE, so the certificate can be its own trust anchor in the agent's `ca`.
      sequence(oid(BASIC_CONSTRAINTS), der(0x01, Buffer.from([0xff])), der(0x04, sequence(der(0x01, Buffer.from([0xff]))))),
      // IP:127.0.0.1 — what TLS checks the endpoint's host against.
      sequence(oid(SUBJECT_ALT_NAME), der(0x04, sequence(der(0x87, Buffer.from([127, 0, 0, 1]))))),
    ),
  );
  const tbs = sequence(
    der(0xa0, der(0x02, Buffer.from([2]))), // v3
    der(0x02, serial),
    algorithm,
    name,
    sequence(utcTime(new Date(now - 60_000)), utcTime(new Date(now + 24 * 3_600_000))),
    name,
    publicKey.export({ type: "spki", format: "der" }),
    extensions,
  );
  const signature = sign("sha256", tbs, privateKey);
  const certificate = sequence(tbs, algorithm, der(0x03, Buffer.from([0]), signature));
  const pem = `-----BEGIN CERTIFICATE-----\n${certificate.toString("base64").replace(/.{64}/g, "$&\n")}\n-----END CERTIFICATE-----\n`;
  return { key: privateKey.export({ type: "pkcs8", format: "pem" }) as string, cert: pem.replace(/\n\n/, "\n") };
}

// --- VAPID (RFC 8292)

/** The P-256 public key of a 65-byte uncompressed point in URL-safe base64. */
function publicKeyOf(point: string): KeyObject {
  const bytes = Buffer.from(point, "base64url");
  if (bytes.length !== 65 || bytes[0] !== 4) throw new Error("k is not an uncompressed P-256 point");
  return createPublicKey({
    key: { kty: "EC", crv: "P-256", x: bytes.subarray(1, 33).toString("base64url"), y: bytes.subarray(33).toString("base64url") },
    format: "jwk",
  });
}

class Refusal extends Error {
  constructor(
    readonly status: number,
    reason: string,
  ) {
    super(reason);
  }
}

function checkVapid(header: string | undefined, origin: string): { key: string; claims: ReceivedPush["claims"] } {
  const match = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(header ?? "");
  if (!match) throw new Refusal(401, "no VAPID authorization");
  const [, jwt, key] = match as unknown as [string, string, string];
  const parts = jwt.split(".");
  if (parts.length !== 3) throw new Refusal(401, "malformed JWT");
  const [head, body, signature] = parts as [string, string, string];
  let publicKey: KeyObject;
  try {
    publicKey = publicKeyOf(key);
  } catch {
    throw new Refusal(401, "bad VAPID key");
  }
  const header_ = JSON.parse(Buffer.from(head, "base64url").toString()) as { alg?: string };
  if (header_.alg !== "ES256") throw new Refusal(401, `JWT alg ${header_.alg}`);
  // JWS ES256 signatures are r||s (64 bytes), not DER.
  const valid = verify("sha256", Buffer.from(`${head}.${body}`), { key: publicKey, dsaEncoding: "ieee-p1363" }, Buffer.from(signature, "base64url"));
  if (!valid) throw new Refusal(401, "JWT signature does not verify against k");
  const claims = JSON.parse(Buffer.from(body, "base64url").toString()) as ReceivedPush["claims"];
  if (claims.aud !== origin) throw new Refusal(401, `JWT aud ${claims.aud} is not ${origin}`);
  const now = Date.now() / 1000;
  if (!(claims.exp > now) || claims.exp > now + 24 * 3600 + 60) throw new Refusal(401, "JWT exp not within 24 hours");
  if (!/^(mailto:|https:)/.test(claims.sub ?? "")) throw new Refusal(401, "JWT sub is not mailto: or https:");
  return { key, claims };
}

// --- message encryption (RFC 8291 over RFC 8188's aes128gcm), the browser's side

function decrypt(body: Buffer, subscription: FakeSubscription): Buffer {
  if (body.length < 21) throw new Refusal(400, "body shorter than an aes128gcm header");
  const salt = body.subarray(0, 16);
  const recordSize = body.readUInt32BE(16);
  const idLength = body[20]!;
  const senderKey = body.subarray(21, 21 + idLength);
  const ciphertext = body.subarray(21 + idLength);
  if (idLength !== 65) throw new Refusal(400, "keyid is not the sender's P-256 key");
  // One record: a push body is smaller than the record size web-push uses (4096).
  if (ciphertext.length > recordSize || ciphertext.length < 17) throw new Refusal(400, "not a single record");
  const receiverKey = subscription.ecdh.getPublicKey();
  const sharedSecret = subscription.ecdh.computeSecret(senderKey);
  const keyInfo = Buffer.concat([Buffer.from("WebPush: info\0"), receiverKey, senderKey]);
  const ikm = Buffer.from(hkdfSync("sha256", sharedSecret, subscription.authSecret, keyInfo, 32));
  const cek = Buffer.from(hkdfSync("sha256", ikm, salt, Buffer.from("Content-Encoding: aes128gcm\0"), 16));
  const nonce = Buffer.from(hkdfSync("sha256", ikm, salt, Buffer.from("Content-Encoding: nonce\0"), 12));
  const decipher = createDecipheriv("aes-128-gcm", cek, nonce);
  decipher.setAuthTag(ciphertext.subarray(-16));
  let plain: Buffer;
  try {
    plain = Buffer.concat([decipher.update(ciphertext.subarray(0, -16)), decipher.final()]);
  } catch {
    throw new Refusal(400, "body does not decrypt with the subscription's keys");
  }
  // Padding: the data, a 0x02 delimiter (the last record), then zeros.
  let end = plain.length - 1;
  while (end >= 0 && plain[end] === 0) end--;
  if (plain[end] !== 2) throw new Refusal(400, "no last-record delimiter");
  return plain.subarray(0, end);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function startPushService(): Promise<FakePushService> {
  const { key, cert } = selfSignedCertificate();
  const subscriptions = new Map<string, FakeSubscription & { applicationServerKey?: string }>();
  const expired = new Set<string>();
  const received: ReceivedPush[] = [];
  const rejected: RejectedPush[] = [];
  const failures: { status: number; headers: Record<string, string> }[] = [];
  const waiters = new Set<() => void>();
  let origin = "";

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const endpoint = `${origin}${req.url ?? "/"}`;
    const body = await readBody(req);
    const failure = failures.shift();
    if (failure) {
      res.writeHead(failure.status, failure.headers).end();
      return;
    }
    const subscription = subscriptions.get(endpoint);
    if (req.method !== "POST") throw new Refusal(405, "not a POST");
    if (!subscription) throw new Refusal(404, "no such subscription");
    if (expired.has(endpoint)) throw new Refusal(410, "subscription expired");
    const vapid = checkVapid(req.headers.authorization, origin);
    if (subscription.applicationServerKey && subscription.applicationServerKey !== vapid.key) {
      throw new Refusal(403, "VAPID key is not the subscription's applicationServerKey");
    }
    const ttl = Number(req.headers.ttl);
    if (req.headers.ttl === undefined || !Number.isInteger(ttl) || ttl < 0) throw new Refusal(400, "TTL header missing or invalid");
    const topic = req.headers.topic as string | undefined;
    if (topic !== undefined && !/^[A-Za-z0-9_-]{1,32}$/.test(topic)) throw new Refusal(400, "Topic is not up to 32 URL-safe base64 characters");
    if (body.length > 4096) throw new Refusal(413, "body over 4096 bytes");
    if (req.headers["content-encoding"] !== "aes128gcm") throw new Refusal(415, "not aes128gcm");
    const text = decrypt(body, subscription).toString("utf8");
    let payload: unknown;
    try {
      payload = JSON.parse(text);
    } catch {
      payload = text;
    }
    received.push({
      endpoint,
      payload,
      ttl,
      urgency: req.headers.urgency as string | undefined,
      topic,
      vapidPublicKey: vapid.key,
      claims: vapid.claims,
    });
    for (const wake of waiters) wake();
    res.writeHead(201, { location: `${origin}/message/${randomBytes(8).toString("hex")}` }).end();
  }

  const server = createServer({ key, cert }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      const status = error instanceof Refusal ? error.status : 500;
      const reason = error instanceof Error ? error.message : String(error);
      rejected.push({ endpoint: `${origin}${req.url ?? "/"}`, status, reason });
      if (!res.headersSent) res.writeHead(status, { "content-type": "text/plain" }).end(reason);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const agent = new Agent({ ca: cert });

  return {
    origin,
    agent,
    received,
    rejected,
    createSubscription(options) {
      const ecdh = createECDH("prime256v1");
      ecdh.generateKeys();
      const authSecret = randomBytes(16);
      const endpoint = `${origin}/push/${randomBytes(12).toString("base64url")}`;
      const subscription = {
        keys: { endpoint, p256dh: ecdh.getPublicKey("base64url"), auth: authSecret.toString("base64url") },
        ecdh,
        authSecret,
        applicationServerKey: options?.applicationServerKey,
      };
      subscriptions.set(endpoint, subscription);
      return subscription;
    },
    expire(endpoint) {
      expired.add(endpoint);
    },
    failNext(count, status = 503, headers = {}) {
      for (let i = 0; i < count; i++) failures.push({ status, headers });
    },
    waitForPush(predicate = () => true, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const push = received.find(predicate);
          if (!push) return false;
          waiters.delete(wake);
          clearTimeout(timer);
          resolve(push);
          return true;
        };
        const wake = () => void check();
        const timer = setTimeout(() => {
          waiters.delete(wake);
          reject(new Error(`no matching push within ${timeoutMs} ms (${received.length} received, ${rejected.length} rejected)`));
        }, timeoutMs);
        waiters.add(wake);
        check();
      });
    },
    close() {
      agent.destroy();
      return new Promise((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}
