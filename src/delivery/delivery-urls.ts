import {
  DEFAULT_URL_LIFETIME_SECONDS,
  type TokenService,
  VIEW_URL_ALIGN_SECONDS,
} from "../services/token.service.js";

/**
 * The master playlist URL of a video (any cut), signed for the source video media row. The
 * expiry is aligned like other browser-facing URLs, so the same URL (and a CDN's copy of it and
 * of its segments) serves a whole window.
 */
export function hlsMasterUrl(
  deps: { tokens: TokenService; publicBaseUrl: string },
  claims: { tenantId: string; mediaId: string; purpose: "view" | "share" },
  lifetimeSeconds = DEFAULT_URL_LIFETIME_SECONDS,
  alignSeconds = VIEW_URL_ALIGN_SECONDS,
): string {
  const { token } = deps.tokens.sign(
    { id: claims.mediaId, purpose: claims.purpose, tenantId: claims.tenantId },
    lifetimeSeconds,
    alignSeconds,
  );
  return `${deps.publicBaseUrl}/v1/hls/${claims.mediaId}/master.m3u8?token=${token}`;
}
