import { createHash } from "node:crypto";
import net from "node:net";
import { Readable } from "node:stream";
import type pg from "pg";
import { to as copyTo } from "pg-copy-streams";
import { AppError } from "../errors.js";
import { CopyBinaryDecoder } from "./copy-binary.js";

/**
 * The byte layer for media: PostgreSQL large objects written and read in bounded chunks.
 *
 * Writing: one `lo_put` per chunk (1 MiB by default), the chunk sent as a binary bind parameter
 * (the pg 8.23 serializer sends Buffers in binary format, not as hex text), with one query in
 * flight while the next chunk is read and hashed. Measured against the alternatives (lowrite on an
 * open descriptor, COPY … FROM STDIN (FORMAT binary) into a temporary table then lo_put from it),
 * the server-side cost dominates all of them: every 2 kB page becomes a catalog tuple, an index
 * entry and a WAL record, and PostgreSQL tries to compress each page inline. The COPY path writes
 * the bytes twice and cost ~40% more backend CPU. The one lever with a real effect is the
 * compression attempt: when the server has lz4, `default_toast_compression` is switched to it for
 * the transaction (20–35% less backend CPU on incompressible media: pglz only gives up after
 * scanning a kilobyte of every page).
 *
 * Reading: `COPY (SELECT lo_get(oid, off, len) FROM generate_series(…)) TO STDOUT (FORMAT binary)`
 * streamed through pg-copy-streams, with the framing stripped by CopyBinaryDecoder. TCP
 * backpressure bounds memory; destroying the stream cancels the query (protocol CancelRequest),
 * drains what is in flight and returns the connection to the pool, or destroys it when the cancel
 * does not land in time.
 */

const KiB = 1024;
const MiB = 1024 * KiB;

export const DEFAULT_WRITE_CHUNK_SIZE = MiB;
export const DEFAULT_READ_CHUNK_SIZE = MiB;
/**
 * Buffering of a read stream (ours and pg-copy-streams' each). Larger than Node's default 16 KiB:
 * fewer pause/resume round trips between the socket, the COPY parser and the HTTP response
 * measurably cut the latency of a 1 MiB range; 20 concurrent streams still hold only ~10 MiB.
 */
const DEFAULT_READ_HIGH_WATER_MARK = 256 * KiB;
/** The first row of a read (then doubling up to the chunk size): see largeObjectRangeCopySql. */
const FIRST_ROW = 64 * KiB;
/** Upper bound for chunk sizes: lo_get/lo_put take an int4 length, and memory must stay small. */
const MAX_CHUNK_SIZE = 64 * MiB;
/** Large-object OIDs are unsigned 32-bit integers. */
const MAX_OID = 2 ** 32 - 1;
const QUERY_CANCELED = "57014";

export interface StoredLargeObject {
  oid: number;
  byteSize: number;
  /** Lower-case hex SHA-256 of the bytes. */
  sha256: string;
}

export interface WriteLargeObjectOptions {
  /** The write fails with PAYLOAD_TOO_LARGE as soon as the source has produced more than this. */
  maxBytes: number;
  /** Aborting fails the write with CANCELLED, without waiting for the source's next chunk. */
  signal?: AbortSignal;
  /** Bytes per lo_put (default 1 MiB); memory use is about three times this. */
  chunkSize?: number;
  /** Fails with REQUEST_TIMEOUT when the source produces nothing for this long while we wait. */
  idleTimeoutMs?: number;
}

function assertInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer in [${min}, ${max}], got ${value}`);
  }
}

function assertOid(oid: number): void {
  assertInteger("oid", oid, 1, MAX_OID);
}

export function payloadTooLarge(maxBytes: number): AppError {
  return new AppError("PAYLOAD_TOO_LARGE", `the upload exceeds the limit of ${maxBytes} bytes`, {
    details: { maxBytes },
  });
}

function cancelled(signal: AbortSignal): AppError {
  return new AppError("CANCELLED", "the upload was cancelled", { cause: signal.reason });
}

/**
 * Resolves the source's next chunk; rejects as soon as `signal` aborts, or when nothing arrives
 * within `idleTimeoutMs` (only the time spent waiting on the source counts, not our own writes).
 */
export function nextChunk(
  iterator: AsyncIterator<unknown>,
  signal: AbortSignal | undefined,
  idleTimeoutMs: number | undefined,
): Promise<IteratorResult<unknown>> {
  const next = iterator.next();
  if (!signal && idleTimeoutMs === undefined) return next;
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const settle = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
    const giveUp = (error: AppError) => {
      settle();
      next.catch(() => {}); // settles after we gave up on it
      reject(error);
    };
    const onAbort = () => giveUp(cancelled(signal!));
    signal?.addEventListener("abort", onAbort, { once: true });
    if (idleTimeoutMs !== undefined) timer = setTimeout(() => giveUp(stalled(idleTimeoutMs)), idleTimeoutMs);
    next.then(
      (result) => {
        settle();
        resolve(result);
      },
      (error: unknown) => {
        settle();
        reject(error);
      },
    );
  });
}

function stalled(idleTimeoutMs: number): AppError {
  const seconds = Math.round(idleTimeoutMs / 100) / 10;
  return new AppError("REQUEST_TIMEOUT", `The upload stalled: no data arrived for ${seconds} s`, {
    details: { idleTimeoutMs },
  });
}

function iterate(source: Readable | AsyncIterable<Buffer>): AsyncIterator<unknown> {
  // A Readable is left alive when we stop early: the caller may still want to answer 413 on it.
  if (source instanceof Readable) return source.iterator({ destroyOnReturn: false });
  return source[Symbol.asyncIterator]();
}

/**
 * Creates a large object and streams `source` into it, computing size and SHA-256 on the way.
 *
 * `client` must be inside a transaction the caller opened (and awaited): large objects are
 * transactional, so on any failure the caller's ROLLBACK removes the half-written object. The
 * transaction's `default_toast_compression` may be set to lz4 (see the file comment).
 * Fails with PAYLOAD_TOO_LARGE as soon as more than `maxBytes` arrived, with REQUEST_TIMEOUT when
 * the source stalls for `idleTimeoutMs`, and with CANCELLED when `signal` aborts; source errors
 * are rethrown as they are. On failure a Readable source is
 * neither consumed further nor destroyed: that is the caller's decision.
 */
export async function writeLargeObject(
  client: pg.ClientBase,
  source: Readable | AsyncIterable<Buffer>,
  options: WriteLargeObjectOptions,
): Promise<StoredLargeObject> {
  const { maxBytes, signal } = options;
  const chunkSize = options.chunkSize ?? DEFAULT_WRITE_CHUNK_SIZE;
  assertInteger("maxBytes", maxBytes, 0, Number.MAX_SAFE_INTEGER);
  assertInteger("chunkSize", chunkSize, 1, MAX_CHUNK_SIZE);
  if (signal?.aborted) throw cancelled(signal);
  if (client.getTransactionStatus() !== "T") {
    throw new Error(
      "writeLargeObject needs a client inside an open transaction (large objects are transactional)",
    );
  }

  const iterator = iterate(source);
  const created = await client.query<{ oid: number }>(
    `SELECT lo_create(0) AS oid,
       CASE WHEN EXISTS (SELECT FROM pg_settings
                         WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals))
            THEN set_config('default_toast_compression', 'lz4', true) END AS compression`,
  );
  const oid = created.rows[0]!.oid;

  const hash = createHash("sha256");
  let total = 0;
  // Double buffering: one buffer fills while the other is on its way to the server.
  let buffer = Buffer.allocUnsafe(chunkSize);
  let spare = Buffer.allocUnsafe(chunkSize);
  let filled = 0;
  let written = 0;
  let inFlight: Promise<unknown> | undefined;

  const flush = async (): Promise<void> => {
    if (filled === 0) return;
    if (inFlight) await inFlight; // `spare` is free again once its lo_put has completed
    const query = client.query("SELECT lo_put($1, $2, $3)", [oid, written, buffer.subarray(0, filled)]);
    query.catch(() => {}); // awaited by the next flush or at the end; never unhandled meanwhile
    inFlight = query;
    written += filled;
    [buffer, spare] = [spare, buffer];
    filled = 0;
  };

  let completed = false;
  try {
    for (;;) {
      const result = await nextChunk(iterator, signal, options.idleTimeoutMs);
      if (result.done) break;
      const value = result.value;
      if (!(value instanceof Uint8Array)) {
        throw new TypeError("writeLargeObject expects a byte stream (Buffer chunks, no encoding)");
      }
      const chunk = Buffer.isBuffer(value)
        ? value
        : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      total += chunk.length;
      if (total > maxBytes) throw payloadTooLarge(maxBytes);
      hash.update(chunk);
      let pos = 0;
      while (pos < chunk.length) {
        const n = Math.min(chunkSize - filled, chunk.length - pos);
        chunk.copy(buffer, filled, pos, pos + n);
        filled += n;
        pos += n;
        if (filled === chunkSize) await flush();
      }
      if (signal?.aborted) throw cancelled(signal);
    }
    await flush();
    await inFlight;
    completed = true;
  } finally {
    if (!completed) {
      // Let a running lo_put finish (its error, if any, is moot) so the caller's ROLLBACK is the
      // next thing on the connection. Release the source without waiting: a stalled source
      // would never let return() settle.
      await inFlight?.catch(() => {});
      iterator.return?.()?.catch(() => {});
    }
  }
  return { oid, byteSize: total, sha256: hash.digest("hex") };
}

/** Unlinks a large object; returns false when it did not exist. Transactional, like writing. */
export async function unlinkLargeObject(client: pg.ClientBase, oid: number): Promise<boolean> {
  assertOid(oid);
  // Through the metadata catalog so that a missing object is a result, not an aborted transaction.
  const result = await client.query("SELECT lo_unlink(oid) FROM pg_largeobject_metadata WHERE oid = $1", [
    oid,
  ]);
  return result.rowCount === 1;
}

// ---------------------------------------------------------------------------------------------
// Reading

export interface LargeObjectStreamOptions {
  /** First byte, zero-based. */
  start: number;
  /** Last byte, inclusive; `start - 1` means an empty range (e.g. a 0-byte object). */
  end: number;
  /** Bytes per lo_get row (default 1 MiB: fewer rows beat smaller ones, see the benchmark). */
  chunkSize?: number;
  /** The returned stream's buffer, in bytes (default 256 KiB). */
  highWaterMark?: number;
  /** How long to wait for a cancelled query to stop before destroying the connection. */
  cancelTimeoutMs?: number;
}

/**
 * The COPY statement reading [start, end] of `oid`, one lo_get per row. The rows start small
 * (FIRST_ROW, doubling up to `chunkSize`): the server sends nothing before a row is complete, so a
 * small first row gets the first bytes out early, and the larger ones that follow keep the
 * per-row overhead low. COPY takes no bind parameters, so the SQL is built from integers that
 * were validated as safe, non-negative and in range.
 */
export function largeObjectRangeCopySql(oid: number, start: number, end: number, chunkSize: number): string {
  assertOid(oid);
  assertInteger("start", start, 0, Number.MAX_SAFE_INTEGER - 1);
  assertInteger("end", end, start, Number.MAX_SAFE_INTEGER - 1);
  assertInteger("chunkSize", chunkSize, 1, MAX_CHUNK_SIZE);
  const length = end - start + 1;
  const first = Math.min(FIRST_ROW, chunkSize);
  // Head rows are first·2^i bytes while that is below chunkSize; the tail rows are chunkSize each.
  let headRows = 0;
  let headBytes = 0;
  for (let size = first; size < chunkSize && headBytes < length; size *= 2) {
    headRows++;
    headBytes += size;
  }
  const rows = headRows + Math.ceil(Math.max(0, length - headBytes) / chunkSize);
  return (
    `COPY (SELECT lo_get(${oid}::oid, o, LEAST(l, ${end + 1}::bigint - o)::int4) FROM (` +
    `SELECT CASE WHEN i < ${headRows} THEN ${start}::bigint + (${first}::bigint << i) - ${first} ` +
    `ELSE ${start + headBytes}::bigint + (i - ${headRows}) * ${chunkSize}::bigint END AS o, ` +
    `CASE WHEN i < ${headRows} THEN ${first}::bigint << i ELSE ${chunkSize}::bigint END AS l ` +
    `FROM generate_series(0, ${rows - 1}) AS i) AS chunk) TO STDOUT (FORMAT binary)`
  );
}

/**
 * Streams exactly the bytes [start, end] of a large object, with bounded memory (TCP
 * backpressure stops the server when the consumer is slow). The stream errors if the object is
 * missing or shorter than the range. Destroying it mid-way cancels the query and returns the
 * connection to the pool before 'close' is emitted.
 */
export function openLargeObjectStream(
  pool: pg.Pool,
  oid: number,
  options: LargeObjectStreamOptions,
): Readable {
  const chunkSize = options.chunkSize ?? DEFAULT_READ_CHUNK_SIZE;
  assertOid(oid);
  assertInteger("start", options.start, 0, Number.MAX_SAFE_INTEGER - 1);
  assertInteger("end", options.end, options.start - 1, Number.MAX_SAFE_INTEGER - 1);
  assertInteger("chunkSize", chunkSize, 1, MAX_CHUNK_SIZE);
  const length = options.end - options.start + 1;
  const sql = length === 0 ? undefined : largeObjectRangeCopySql(oid, options.start, options.end, chunkSize);
  return new LargeObjectReadStream(pool, sql, length, {
    highWaterMark: options.highWaterMark ?? DEFAULT_READ_HIGH_WATER_MARK,
    cancelTimeoutMs: options.cancelTimeoutMs ?? 5000,
  });
}

/**
 * Reads a small range into memory in one query (hex-encoded on the wire: for tests and small
 * objects; stream anything large with openLargeObjectStream).
 */
export async function readLargeObjectRange(
  pool: pg.Pool | pg.ClientBase,
  oid: number,
  start: number,
  end: number,
): Promise<Buffer> {
  assertOid(oid);
  assertInteger("start", start, 0, Number.MAX_SAFE_INTEGER - 1);
  assertInteger("end", end, start - 1, start + MAX_CHUNK_SIZE - 1);
  if (end < start) return Buffer.alloc(0);
  const result = await pool.query<{ data: Buffer }>("SELECT lo_get($1::oid, $2::bigint, $3::int4) AS data", [
    oid,
    start,
    end - start + 1,
  ]);
  const data = result.rows[0]!.data;
  if (data.length !== end - start + 1) {
    throw new Error(`large object ${oid} is shorter than the range ${start}-${end}`);
  }
  return data;
}

type CopyToStream = ReturnType<typeof copyTo>;

/** The fields of a pg Client that a CancelRequest needs (set from BackendKeyData). */
interface CancelKeys {
  host: string;
  port: number;
  processID: number | null;
  secretKey: number | null;
}

/**
 * Sends a protocol CancelRequest for whatever `client`'s backend is running, on a separate
 * unauthenticated connection (it works even when the pool is exhausted). Best effort: resolves
 * true once the server has closed that connection (its cancel handling is over), false when the
 * request could not be sent or the close did not come in time.
 */
function sendCancelRequest(client: pg.PoolClient, timeoutMs: number): Promise<boolean> {
  const { host, port, processID, secretKey } = client as unknown as CancelKeys;
  if (processID === null || secretKey === null) return Promise.resolve(false);
  const packet = Buffer.alloc(16);
  packet.writeInt32BE(16, 0);
  packet.writeInt32BE(80877102, 4); // the cancel request code: 1234 << 16 | 5678
  packet.writeInt32BE(processID, 8);
  packet.writeInt32BE(secretKey, 12);
  return new Promise((resolve) => {
    const socket = host.startsWith("/") ? net.connect(`${host}/.s.PGSQL.${port}`) : net.connect(port, host);
    let timedOut = false;
    socket.setTimeout(timeoutMs, () => {
      timedOut = true;
      socket.destroy();
    });
    socket.once("connect", () => socket.end(packet));
    socket.once("error", () => resolve(false));
    socket.once("close", (hadError) => resolve(!hadError && !timedOut));
    socket.resume(); // the server answers by closing the connection
  });
}

class LargeObjectReadStream extends Readable {
  readonly #pool: pg.Pool;
  readonly #sql: string | undefined;
  readonly #length: number;
  readonly #cancelTimeoutMs: number;
  readonly #decoder = new CopyBinaryDecoder({ fieldsPerTuple: 1 });
  #client: pg.PoolClient | undefined;
  #copy: CopyToStream | undefined;
  #received = 0;
  /** Set when the COPY has ended or failed: the connection can go back to the pool. */
  #queryDone = false;
  /** While cancelling, the outcome of the COPY ('end' or its error) is reported here. */
  #onQueryDone: ((error?: Error) => void) | undefined;

  constructor(
    pool: pg.Pool,
    sql: string | undefined,
    length: number,
    options: { highWaterMark: number; cancelTimeoutMs: number },
  ) {
    super({ highWaterMark: options.highWaterMark });
    this.#pool = pool;
    this.#sql = sql;
    this.#length = length;
    this.#cancelTimeoutMs = options.cancelTimeoutMs;
  }

  override _construct(callback: (error?: Error | null) => void): void {
    if (this.#sql === undefined) {
      callback();
      return;
    }
    this.#pool.connect().then(
      (client) => {
        this.#client = client;
        client.on("error", this.#onClientError);
        if (!this.destroyed) this.#start(client, this.#sql!);
        callback();
      },
      (error: Error) => callback(error),
    );
  }

  #start(client: pg.PoolClient, sql: string): void {
    const copy = client.query(copyTo(sql, { highWaterMark: this.readableHighWaterMark }));
    this.#copy = copy;
    copy.on("data", this.#onData);
    copy.pause(); // flowing starts with the first _read
    copy.once("end", () => this.#finishQuery());
    copy.on("error", (error: Error) => this.#finishQuery(error));
  }

  /** A checked-out pg client has no error listener of its pool's: a dead connection lands here. */
  readonly #onClientError = (error: Error): void => {
    if (this.#onQueryDone) this.#onQueryDone(error);
    else this.destroy(error);
  };

  readonly #onData = (chunk: Buffer): void => {
    if (this.#onQueryDone) return; // cancelling: discard what was already on its way
    let more = true;
    try {
      this.#decoder.write(chunk, (data) => {
        this.#received += data.length;
        if (this.#received > this.#length)
          throw new Error("large object COPY returned more bytes than asked for");
        more = this.push(data);
      });
    } catch (error) {
      this.destroy(error as Error);
      return;
    }
    // A consumer may destroy us from inside push(): then the cancel path owns the flow.
    if (!more && !this.#onQueryDone) this.#copy!.pause();
  };

  #finishQuery(error?: Error): void {
    if (this.#queryDone) return;
    this.#queryDone = true;
    if (this.#onQueryDone) {
      this.#onQueryDone(error);
      return;
    }
    if (error) {
      this.destroy(error);
      return;
    }
    try {
      this.#decoder.end();
      if (this.#received !== this.#length) {
        throw new Error(
          `large object is shorter than the requested range (${this.#received} of ${this.#length} bytes)`,
        );
      }
    } catch (failure) {
      this.destroy(failure as Error);
      return;
    }
    this.#release();
    this.push(null);
  }

  override _read(): void {
    if (this.#sql === undefined) this.push(null);
    else this.#copy?.resume();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const client = this.#client;
    if (!client || this.#queryDone || !this.#copy) {
      // Not started, finished, or failed with a server error (the connection is still usable
      // after an ErrorResponse, but a failure here is rare enough to start afresh).
      this.#release(this.#queryDone && error !== null);
      callback(error);
      return;
    }
    // Mid-stream: cancel the query, discard what is still coming, and hand the connection back
    // only once the cancellation is over: the server answered the query with QUERY_CANCELED *and*
    // closed the cancel connection. PostgreSQL's cancel handler signals the backend twice (its pid,
    // then its process group) before it closes that connection, so a backend can meet the first
    // signal, fail the COPY, and meet the second in whatever runs next on the connection — the next
    // query of another request. libpq's PQcancel waits for the same close for the same reason.
    const copy = this.#copy;
    const timer = setTimeout(() => this.#onQueryDone?.(new Error("cancel timed out")), this.#cancelTimeoutMs);
    const cancelSent = sendCancelRequest(client, this.#cancelTimeoutMs);
    this.#onQueryDone = (outcome) => {
      clearTimeout(timer);
      this.#onQueryDone = () => {};
      const cancelled = (outcome as { code?: string } | undefined)?.code === QUERY_CANCELED;
      const finish = (reusable: boolean) => {
        this.#release(!reusable);
        callback(error);
      };
      if (cancelled) void cancelSent.then(finish);
      else finish(false);
    };
    copy.resume();
  }

  #release(destroyConnection = false): void {
    const client = this.#client;
    if (!client) return;
    this.#client = undefined;
    client.removeListener("error", this.#onClientError);
    client.release(destroyConnection);
  }
}
