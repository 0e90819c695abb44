import { createWriteStream } from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type pg from "pg";
import type { DataSource } from "typeorm";
import { isUuid } from "../domain/ids.js";
import {
  DEFAULT_WRITE_CHUNK_SIZE,
  openLargeObjectStream,
  type WriteLargeObjectOptions,
  writeLargeObject,
} from "./large-object.store.js";

export interface MediaRow {
  id: string;
  tenantId: string;
  loOid: number;
  byteSize: number;
  sha256: string;
  contentType: string;
  createdAt: Date;
}

interface RawMediaRow {
  id: string;
  tenant_id: string;
  lo_oid: string;
  byte_size: string;
  sha256: string;
  content_type: string;
  created_at: Date;
}

const toRow = (raw: RawMediaRow): MediaRow => ({
  id: raw.id,
  tenantId: raw.tenant_id,
  loOid: Number(raw.lo_oid),
  byteSize: Number(raw.byte_size),
  sha256: raw.sha256,
  contentType: raw.content_type,
  createdAt: raw.created_at,
});

/** The pg pool under TypeORM: large objects need a raw client (transactions, COPY). */
export function poolOf(dataSource: DataSource): pg.Pool {
  return (dataSource.driver as unknown as { master: pg.Pool }).master;
}

/**
 * Media rows and their bytes. Writes stream into a new large object inside a transaction and
 * dedupe per tenant by SHA-256: the same bytes twice give one row and one large object (the
 * second copy's large object vanishes with its rolled-back transaction).
 */
export interface StoreMediaOptions extends WriteLargeObjectOptions {
  contentType: string;
}

/**
 * Checks a tenant's storage quota on the storing connection: `before` the bytes are written and
 * `after` the row is inserted (its trigger has moved and locked the tenant's counter); throws to
 * refuse, and the store rolls back.
 */
export type StorageGuard = (
  query: (sql: string, params: unknown[]) => Promise<Record<string, unknown>[]>,
  tenantId: string,
  phase: "before" | "after",
) => Promise<void>;

export class MediaStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly guard?: StorageGuard,
  ) {}

  /** Streams `source` into a new media row (or finds the tenant's row with the same bytes). */
  async store(
    tenantId: string,
    source: Readable | AsyncIterable<Buffer> | Buffer,
    options: StoreMediaOptions,
  ): Promise<{ media: MediaRow; deduplicated: boolean }> {
    // When the row we deduplicated against is deleted meanwhile, bytes in hand can be stored afresh.
    const attempts = Buffer.isBuffer(source) ? 2 : 1;
    // Bytes in hand need no buffers larger than themselves (a thumbnail is ~100 kB).
    const chunkSize = Buffer.isBuffer(source)
      ? Math.max(1, Math.min(source.length, options.chunkSize ?? DEFAULT_WRITE_CHUNK_SIZE))
      : options.chunkSize;
    // A stream handed in may fail before it is read (a file stream opens at once; when storing
    // fails first, e.g. on a closing pool, the caller removes the file): that error is handled
    // here, not left to crash the process. Reading it reports its own errors.
    const stream = source instanceof Readable ? source : null;
    stream?.on("error", () => {});
    try {
      for (let attempt = 1; ; attempt++) {
        const input = Buffer.isBuffer(source) ? Readable.from([source]) : source;
        const stored = await this.storeOnce(tenantId, input, { ...options, chunkSize });
        if (stored) return stored;
        if (attempt >= attempts) throw new Error("the deduplicated media row was deleted while storing");
      }
    } catch (error) {
      stream?.destroy();
      throw error;
    }
  }

  /** One attempt; null when the existing row found by SHA-256 vanished before we could read it. */
  private async storeOnce(
    tenantId: string,
    input: Readable | AsyncIterable<Buffer>,
    options: StoreMediaOptions,
  ): Promise<{ media: MediaRow; deduplicated: boolean } | null> {
    const client = await this.pool.connect();
    let done = false;
    let broken = false;
    try {
      await client.query("BEGIN");
      const query = async (sql: string, params: unknown[]) => (await client.query(sql, params)).rows;
      await this.guard?.(query, tenantId, "before");
      const { contentType: _, ...writeOptions } = options;
      const written = await writeLargeObject(client, input, writeOptions);
      const inserted = await client.query<RawMediaRow>(
        `INSERT INTO media (tenant_id, lo_oid, byte_size, sha256, content_type)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (tenant_id, sha256) DO NOTHING
         RETURNING *`,
        [tenantId, written.oid, written.byteSize, written.sha256, options.contentType],
      );
      if (inserted.rows[0]) {
        await this.guard?.(query, tenantId, "after");
        await client.query("COMMIT");
        done = true;
        return { media: toRow(inserted.rows[0]), deduplicated: false };
      }
      // Same bytes already stored for this tenant: drop our copy, use theirs.
      await client.query("ROLLBACK");
      done = true;
      const existing = await client.query<RawMediaRow>(
        "SELECT * FROM media WHERE tenant_id = $1 AND sha256 = $2",
        [tenantId, written.sha256],
      );
      return existing.rows[0] ? { media: toRow(existing.rows[0]), deduplicated: true } : null;
    } catch (error) {
      // A connection that cannot even roll back (e.g. it broke mid-write) must not go back to the pool.
      if (!done)
        broken = !(await client.query("ROLLBACK").then(
          () => true,
          () => false,
        ));
      throw error;
    } finally {
      client.release(broken);
    }
  }

  /** A media row of the tenant (or of any tenant when `tenantId` is null: signed-URL checks). */
  async byId(tenantId: string | null, id: string): Promise<MediaRow | null> {
    if (!isUuid(id)) return null;
    const result = await this.pool.query<RawMediaRow>(
      tenantId ? "SELECT * FROM media WHERE id = $1 AND tenant_id = $2" : "SELECT * FROM media WHERE id = $1",
      tenantId ? [id, tenantId] : [id],
    );
    return result.rows[0] ? toRow(result.rows[0]) : null;
  }

  async byIds(tenantId: string, ids: readonly string[]): Promise<MediaRow[]> {
    const valid = ids.filter(isUuid);
    if (valid.length === 0) return [];
    const result = await this.pool.query<RawMediaRow>(
      "SELECT * FROM media WHERE tenant_id = $1 AND id = ANY($2::uuid[])",
      [tenantId, valid],
    );
    return result.rows.map(toRow);
  }

  /**
   * Bytes [start, end] (inclusive) of a media object, streamed with bounded memory. A reader that
   * stops pulling (a paused <video>, a slow or hostile client) hands its database connection back
   * after STALLED_READ_MS and the read resumes where it was when it pulls again: otherwise a
   * handful of stalled readers would hold the whole pool, and the API with it.
   */
  openRange(media: MediaRow, start = 0, end = media.byteSize - 1): Readable {
    return new ResumableRangeStream(
      (from) => openLargeObjectStream(this.pool, media.loOid, { start: from, end }),
      start,
      end,
    );
  }

  /** Copies a media object to a local file (e.g. a photo into a render's temp dir). */
  async toFile(media: MediaRow, file: string, signal?: AbortSignal): Promise<void> {
    if (media.byteSize === 0) {
      await pipeline(Readable.from([]), createWriteStream(file));
      return;
    }
    await pipeline(this.openRange(media), createWriteStream(file), { signal });
  }
}

/** How long a reader may leave the stream full before its large-object read is stopped. */
export const STALLED_READ_MS = 2_000;

/**
 * Streams [start, end] through `open(from)` (a read of [from, end]); when the consumer stalls
 * for `stalledMs`, the current read is destroyed (releasing its connection) and reopened at
 * the first byte not yet handed on when the consumer pulls again.
 */
class ResumableRangeStream extends Readable {
  #inner: Readable | undefined;
  #position: number;
  #stallTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly open: (from: number) => Readable,
    start: number,
    private readonly end: number,
    private readonly stalledMs = STALLED_READ_MS,
  ) {
    super();
    this.#position = start;
  }

  override _read(): void {
    clearTimeout(this.#stallTimer);
    if (this.#inner) this.#inner.resume();
    else if (this.#position > this.end)
      this.push(null); // stopped right after its last byte
    else this.#inner = this.#openInner();
  }

  #openInner(): Readable {
    const inner = this.open(this.#position);
    inner.on("data", (chunk: Buffer) => {
      this.#position += chunk.length;
      if (!this.push(chunk)) {
        inner.pause();
        clearTimeout(this.#stallTimer);
        this.#stallTimer = setTimeout(() => this.#stopInner(), this.stalledMs);
      }
    });
    inner.once("end", () => {
      if (this.#inner !== inner) return;
      this.#inner = undefined;
      this.push(null);
    });
    // `on`, not `once`: a stopped read may still report its cancellation; it is ignored then.
    inner.on("error", (error) => {
      if (this.#inner === inner) this.destroy(error);
    });
    return inner;
  }

  #stopInner(): void {
    const inner = this.#inner;
    this.#inner = undefined;
    inner?.destroy();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    clearTimeout(this.#stallTimer);
    this.#stopInner();
    callback(error);
  }
}
