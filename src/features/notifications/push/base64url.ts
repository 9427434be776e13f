// URL-safe base64 (RFC 4648 §5) as the Push API speaks it: VAPID public keys
// arrive in it, while pushManager.subscribe wants the key's bytes. Pure and free
// of Node's Buffer so the browser bundle can use it.

const ALPHABET = /^[A-Za-z0-9_-]*={0,2}$/;

/** The bytes of a URL-safe base64 string, padded or not; throws on anything else. */
export function urlBase64ToUint8Array(text: string): Uint8Array<ArrayBuffer> {
  if (!ALPHABET.test(text) || text.replace(/=+$/, "").length % 4 === 1) throw new Error("not URL-safe base64");
  const base64 = text.replace(/=+$/, "").replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, "="));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Unpadded URL-safe base64 of `bytes`: how a subscription's key is compared with ours. */
export function uint8ArrayToUrlBase64(bytes: ArrayBuffer | Uint8Array): string {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let binary = "";
  for (const byte of view) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
