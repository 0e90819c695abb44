import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { EventEmitter } from "node:events";
import type { DataSource, EntityManager } from "typeorm";
import { ApiKeyEntity } from "../db/entities/index.js";
import { API_KEY_SCOPES, type ApiKeyScope } from "../domain/vocabulary.js";
import { AppError } from "../errors.js";

/**
 * API keys look like `pv_<prefix>_<secret>`: the prefix (10 hex digits) is public and indexed,
 * the secret is 256 random bits. Only the prefix and the SHA-256 of the whole key are stored.
 */

const KEY_PATTERN = /^pv_([0-9a-f]{10})_([A-Za-z0-9_-]{43})$/;
/** How stale `last_used_at` may get before a request refreshes it (one write per key per minute). */
const LAST_USED_RESOLUTION_MS = 60_000;
/**
 * How long a verified key is trusted without asking the database again. Revocation does not
 * wait for it: every process hears `API_KEY_REVOCATIONS_CHANNEL` and forgets the key at once;
 * the TTL bounds what a missed announcement could cost.
 */
export const VERIFIED_KEY_TTL_MS = 10_000;
/** Verified keys remembered at most (the oldest are forgotten first). */
const VERIFIED_KEY_CACHE_SIZE = 10_000;
/** NOTIFY channel of the api_key revocation trigger (payload: the key's id). */
export const API_KEY_REVOCATIONS_CHANNEL = "propvid_api_key_revocations";

export interface GeneratedKey {
  key: string;
  prefix: string;
  keyHash: string;
}

export function generateApiKey(): GeneratedKey {
  const prefix = randomBytes(5).toString("hex");
  const secret = randomBytes(32).toString("base64url");
  const key = `pv_${prefix}_${secret}`;
  return { key, prefix, keyHash: hashApiKey(key) };
}

export function hashApiKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

/** Splits a presented key; undefined when it is not shaped like one of ours. */
export function parseApiKey(presented: string): { prefix: string } | undefined {
  const match = KEY_PATTERN.exec(presented);
  return match ? { prefix: match[1]! } : undefined;
}

/** Constant-time comparison of two hex digests of equal length. */
export function digestsEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, "hex");
  const right = Buffer.from(b, "hex");
  return left.length === right.length && timingSafeEqual(left, right);
}

const DUMMY_HASH = hashApiKey("pv_0000000000_not-a-key-not-a-key-not-a-key-not-a-key-not-a-k");

export interface Principal {
  tenantId: string;
  apiKeyId: string;
  prefix: string;
  scopes: ApiKeyScope[];
}

export class ApiKeyService {
  private readonly lastTouched = new Map<string, number>();
  /** Keys verified lately, by the SHA-256 of the presented key: no database read while fresh. */
  private readonly verified = new Map<string, { principal: Principal; expiresAt: number }>();
  /** Emits `revoked` (apiKeyId) when a key is revoked, here or (announced) in any process: sockets close at once. */
  readonly revocations = new EventEmitter<{ revoked: [apiKeyId: string] }>().setMaxListeners(0);

  constructor(
    private readonly dataSource: DataSource,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Hears revocations announced by the database trigger (any process, the CLI, SQL by hand), and
   * forgets every cached key after a reconnection (an announcement may have been missed).
   */
  listenForRevocations(listener: {
    on(channel: string, handler: (payload: string) => void): unknown;
    onConnected(handler: () => void): unknown;
  }): void {
    listener.on(API_KEY_REVOCATIONS_CHANNEL, (apiKeyId) => this.revoked(apiKeyId));
    listener.onConnected(() => this.verified.clear());
  }

  /**
   * The principal of a key verified within the TTL, without touching the database; undefined
   * when it has to be checked (`authenticate`).
   */
  cached(presented: string | undefined): Principal | undefined {
    if (!presented) return undefined;
    const hash = hashApiKey(presented);
    const entry = this.verified.get(hash);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.verified.delete(hash);
      return undefined;
    }
    this.touch(entry.principal.apiKeyId, null);
    return entry.principal;
  }

  /** Resolves a presented key to its principal; every failure is the same UNAUTHENTICATED. */
  async authenticate(presented: string | undefined): Promise<Principal> {
    const hit = this.cached(presented);
    if (hit) return hit;
    const parsed = presented ? parseApiKey(presented) : undefined;
    const row = parsed
      ? await this.dataSource.getRepository(ApiKeyEntity).findOne({ where: { prefix: parsed.prefix } })
      : null;
    // Hash and compare even when there is no row, so timing says nothing about which prefixes exist.
    const hash = hashApiKey(presented ?? "");
    const matches = digestsEqual(hash, row?.keyHash ?? DUMMY_HASH);
    if (!row || !matches || row.revokedAt) throw unauthenticated();
    this.touch(row.id, row.lastUsedAt);
    const principal: Principal = {
      tenantId: row.tenantId,
      apiKeyId: row.id,
      prefix: row.prefix,
      scopes: row.scopes as ApiKeyScope[],
    };
    this.remember(hash, principal);
    return principal;
  }

  /** Whether the key is still valid (used to close long-lived sockets of revoked keys). */
  async isActive(apiKeyId: string): Promise<boolean> {
    const row = await this.dataSource.getRepository(ApiKeyEntity).findOne({ where: { id: apiKeyId } });
    return row !== null && row.revokedAt === null;
  }

  async create(
    tenantId: string,
    input: { name: string; scopes: ApiKeyScope[] },
    manager: EntityManager = this.dataSource.manager,
  ): Promise<{ key: string; apiKey: ApiKeyEntity }> {
    const name = input.name.trim();
    if (name.length === 0 || name.length > 100)
      throw new AppError("BAD_USER_INPUT", "name must be 1 to 100 characters");
    const scopes = [...new Set(input.scopes)];
    if (scopes.length === 0 || scopes.some((scope) => !API_KEY_SCOPES.includes(scope))) {
      throw new AppError(
        "BAD_USER_INPUT",
        `scopes must be a non-empty subset of ${API_KEY_SCOPES.join(", ")}`,
      );
    }
    const generated = generateApiKey();
    const apiKey = await manager.getRepository(ApiKeyEntity).save(
      manager.getRepository(ApiKeyEntity).create({
        tenantId,
        name,
        scopes,
        prefix: generated.prefix,
        keyHash: generated.keyHash,
        lastUsedAt: null,
        revokedAt: null,
      }),
    );
    return { key: generated.key, apiKey };
  }

  async list(tenantId: string): Promise<ApiKeyEntity[]> {
    return await this.dataSource
      .getRepository(ApiKeyEntity)
      .find({ where: { tenantId }, order: { createdAt: "ASC" } });
  }

  async byId(tenantId: string, id: string): Promise<ApiKeyEntity | null> {
    return await this.dataSource.getRepository(ApiKeyEntity).findOne({ where: { tenantId, id } });
  }

  /** Revokes by prefix within the tenant (or across tenants when `tenantId` is null, for the CLI). */
  async revoke(tenantId: string | null, prefix: string): Promise<ApiKeyEntity> {
    const repository = this.dataSource.getRepository(ApiKeyEntity);
    const row = await repository.findOne({ where: tenantId ? { tenantId, prefix } : { prefix } });
    if (!row) throw new AppError("NOT_FOUND", "API key not found");
    if (!row.revokedAt) {
      await repository.update({ id: row.id }, { revokedAt: new Date() });
      row.revokedAt = new Date();
    }
    // The trigger announces it to every process too; this one need not wait for the round trip.
    this.revoked(row.id);
    return row;
  }

  /** Forgets a revoked key and tells its long-lived sockets (idempotent: local and announced). */
  private revoked(apiKeyId: string): void {
    for (const [hash, entry] of this.verified)
      if (entry.principal.apiKeyId === apiKeyId) this.verified.delete(hash);
    this.revocations.emit("revoked", apiKeyId);
  }

  private remember(hash: string, principal: Principal): void {
    this.verified.delete(hash);
    if (this.verified.size >= VERIFIED_KEY_CACHE_SIZE) {
      const oldest = this.verified.keys().next().value;
      if (oldest !== undefined) this.verified.delete(oldest);
    }
    this.verified.set(hash, { principal, expiresAt: this.now() + VERIFIED_KEY_TTL_MS });
  }

  /** Updates `last_used_at` at most once a minute per key, off the request path. */
  private touch(apiKeyId: string, lastUsedAt: Date | null): void {
    const now = this.now();
    const last = this.lastTouched.get(apiKeyId) ?? lastUsedAt?.getTime() ?? 0;
    if (now - last < LAST_USED_RESOLUTION_MS) return;
    this.lastTouched.set(apiKeyId, now);
    void this.dataSource
      .query(
        `UPDATE api_key SET last_used_at = now()
          WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`,
        [apiKeyId],
      )
      .catch(() => this.lastTouched.delete(apiKeyId));
  }
}

export function unauthenticated(): AppError {
  return new AppError("UNAUTHENTICATED", "Unauthenticated");
}

const SCOPE_RANK: Record<ApiKeyScope, number> = { read: 1, write: 2, admin: 3 };

/** Scopes are ordered: admin includes write, write includes read. */
export function requireScope(principal: Principal, scope: ApiKeyScope): void {
  const ok = principal.scopes.some((held) => SCOPE_RANK[held] >= SCOPE_RANK[scope]);
  if (!ok) throw new AppError("FORBIDDEN", `This API key lacks the ${scope} scope`);
}
