/**
 * Cache headers of the media route (see docs/DELIVERY.md, "Putting a CDN in front").
 *
 * Media rows are immutable bytes, so a URL never changes meaning while it is valid: every
 * response may be cached for exactly as long as the URL's token still verifies, and no longer.
 * - A per-user signed URL (`view`, `download`, `provider`): `private` — only the browser that
 *   asked may keep it; a shared cache must not hand one user's signed bytes to another URL-holder
 *   after the token would have refused them.
 * - A share-page URL (`share`): `public, immutable` — the same bytes for every visitor of the
 *   share page, so a CDN may serve them until the token expires (share tokens are short-lived,
 *   which bounds how long a revoked link's media stays reachable from a cache).
 * - An API key in a header: `private, no-cache` — the response depends on the key, so it must be
 *   revalidated each time (the server checks the key again); with that, no `Vary` is needed.
 * The query string (token included) is part of the cache key, so no response carries `Vary`.
 */
export type MediaAccess =
  | { kind: "api-key" }
  | { kind: "token"; purpose: string /** Unix seconds. */; expiresAt: number };

export function mediaCacheControl(access: MediaAccess, nowMs: number): string {
  if (access.kind === "api-key") return "private, no-cache";
  const remaining = Math.max(0, access.expiresAt - Math.ceil(nowMs / 1000));
  if (remaining === 0) return "no-store";
  const scope = access.purpose === "share" ? "public" : "private";
  return `${scope}, max-age=${remaining}, immutable`;
}

/** Refusals (403/404) are never stored: the same URL may work for someone else, or later. */
export const REFUSAL_CACHE_CONTROL = "no-store";
