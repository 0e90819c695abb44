/**
 * A random idempotency key. `crypto.randomUUID` exists only in secure contexts (https or
 * loopback); `getRandomValues` works on a plain-http LAN address too.
 */
export function randomKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}
