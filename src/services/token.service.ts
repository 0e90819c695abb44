import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Signed URLs: who cannot send headers (a <video> tag, a model provider fetching an input photo)
 * gets a short-lived token bound to one object, one purpose, one tenant and an expiry.
 * token = `<expiry seconds>.<purpose>.<base64url HMAC-SHA256(secret, id|purpose|tenant|expiry|extra)>`.
 * Tokens are never logged (the logger redacts `token=` in URLs).
 */

/** `share`: media of a public share page (cacheable by a CDN, short-lived). */
export const TOKEN_PURPOSES = ["view", "download", "provider", "upload", "share"] as const;
export type TokenPurpose = (typeof TOKEN_PURPOSES)[number];

export const DEFAULT_URL_LIFETIME_SECONDS = 3600;
/**
 * Browser-facing URLs expire on a 10-minute boundary (after at least their lifetime): every
 * request in those 10 minutes gets the same URL for the same object, so browsers reuse what
 * they cached (a campaign's thumbnails on the next visit) instead of downloading it again.
 */
export const VIEW_URL_ALIGN_SECONDS = 600;
export const PROVIDER_URL_LIFETIME_SECONDS = 15 * 60;

export interface TokenClaims {
  /** The media id (or asset id for uploads). */
  id: string;
  purpose: TokenPurpose;
  tenantId: string;
  /** Bound into the signature too, e.g. an upload's byte cap. */
  extra?: string;
}

/** The `extra` claim that binds a download name into a media URL's signature. */
export function filenameBinding(filename: string | undefined): string | undefined {
  return filename === undefined ? undefined : `name=${filename}`;
}

export class TokenService {
  constructor(
    private readonly secret: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** `alignSeconds` rounds the expiry up to a multiple of it (stable URLs, see VIEW_URL_ALIGN_SECONDS). */
  sign(claims: TokenClaims, lifetimeSeconds: number, alignSeconds = 1): { token: string; expiresAt: Date } {
    const earliest = Math.floor(this.now() / 1000) + Math.max(1, Math.floor(lifetimeSeconds));
    const align = Math.max(1, Math.floor(alignSeconds));
    const expiry = Math.ceil(earliest / align) * align;
    return {
      token: `${expiry}.${claims.purpose}.${this.mac(claims, expiry)}`,
      expiresAt: new Date(expiry * 1000),
    };
  }

  /**
   * Checks a token against the claims the server expects (the tenant comes from the object's
   * row, never from the request). False for expired, tampered, or another object's token.
   */
  verify(token: string | undefined, expected: TokenClaims): boolean {
    if (!token || token.length > 200) return false;
    const match = /^(\d{1,12})\.([a-z]{1,16})\.([A-Za-z0-9_-]{43})$/.exec(token);
    if (!match) return false;
    const expiry = Number(match[1]);
    if (match[2] !== expected.purpose || expiry * 1000 < this.now()) return false;
    // Compare the text, not the decoded bytes: the 43rd character carries two unused bits, so
    // decoding would accept four spellings of every signature (a "tampered" token that works).
    const given = Buffer.from(match[3]!, "latin1");
    const wanted = Buffer.from(this.mac(expected, expiry), "latin1");
    return given.length === wanted.length && timingSafeEqual(given, wanted);
  }

  /** A token that expires exactly at `expiry` (Unix seconds): a playlist's segment URLs share its expiry. */
  signUntil(claims: TokenClaims, expiry: number): string {
    return `${expiry}.${claims.purpose}.${this.mac(claims, expiry)}`;
  }

  /** The expiry (Unix seconds) a well-formed token carries; check it with verify first. */
  static expiryOf(token: string): number {
    return Number(token.split(".")[0]);
  }

  private mac(claims: TokenClaims, expiry: number): string {
    return createHmac("sha256", this.secret)
      .update([claims.id, claims.purpose, claims.tenantId, String(expiry), claims.extra ?? ""].join("|"))
      .digest("base64url");
  }
}
