/**
 * The large-object byte layer against a real PostgreSQL: round trips, ranges, the size cap,
 * failing sources (ABUSE 10, 11) and consumers that go away mid-stream (ABUSE 30).
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { createReadStream } from "node:fs";
import net from "node:net";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { AppError } from "../../src/errors.js";
import {
  openLargeObjectStream,
  readLargeObjectRange,
  type StoredLargeObject,
  unlinkLargeObject,
  writeLargeObject,
} from "../../src/media/large-object.store.js";
import { MediaStore } from "../../src/media/media.store.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";

const KiB = 1024;
const MiB = 1024 * KiB;

let database: TestDatabase;
let pool: pg.Pool;

before(async () => {
  database = await createTestDatabase();
  pool = new pg.Pool({ connectionString: database.url, max: 4 });
});

after(async () => {
  await pool.end();
  await database.drop();
});

const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

/** Yields `data` in pieces of `pieceSize` bytes (a source whose chunks never align with ours). */
async function* pieces(data: Buffer, pieceSize: number): AsyncGenerator<Buffer> {
  for (let offset = 0; offset < data.length; offset += pieceSize)
    yield data.subarray(offset, offset + pieceSize);
}

async function inTransaction<T>(fn: (client: pg.PoolClient) => Promise<T>, commit = true): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const result = await fn(client);
    await client.query(commit ? "COMMIT" : "ROLLBACK");
    return result;
  } catch (error) {
    await client.query("ROLLBACK");
    throw error;
  } finally {
    client.release();
  }
}

async function store(
  source: Readable | AsyncIterable<Buffer>,
  chunkSize?: number,
): Promise<StoredLargeObject> {
  return await inTransaction((client) => writeLargeObject(client, source, { maxBytes: 64 * MiB, chunkSize }));
}

async function largeObjectCount(queryable: pg.Pool | pg.ClientBase = pool): Promise<number> {
  const { rows } = await queryable.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM pg_largeobject_metadata",
  );
  return rows[0]!.n;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Other sessions of this test database that are running a statement right now. */
async function activeQueries(): Promise<string[]> {
  const { rows } = await pool.query<{ query: string }>(
    `SELECT query FROM pg_stat_activity
     WHERE datname = current_database() AND pid <> pg_backend_pid() AND state <> 'idle'
       AND backend_type = 'client backend'`,
  );
  return rows.map((row) => row.query);
}

/** Reads `stream` until more than 3 MiB arrived, destroys it mid-way, and waits for its close. */
async function readThenDestroy(stream: Readable): Promise<number> {
  let received = 0;
  stream.on("data", (chunk: Buffer) => {
    received += chunk.length;
    if (received > 3 * MiB) stream.destroy();
  });
  await once(stream, "close");
  return received;
}

async function waitFor(what: string, predicate: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Asserts the pool is whole: every connection idle, and each one still answers. */
async function assertPoolHealthy(): Promise<void> {
  await waitFor(
    "the pool to be idle",
    async () => pool.idleCount === pool.totalCount && pool.waitingCount === 0,
  );
  const clients = await Promise.all(Array.from({ length: pool.options.max }, () => pool.connect()));
  try {
    for (const client of clients) assert.equal((await client.query("SELECT 1 AS one")).rows[0].one, 1);
  } finally {
    for (const client of clients) client.release();
  }
}

describe("writeLargeObject / openLargeObjectStream round trip", () => {
  const writeChunk = 64 * KiB;
  const readChunk = 16 * KiB;
  const sizes = [
    0,
    1,
    readChunk - 1,
    readChunk,
    readChunk + 1,
    writeChunk - 1,
    writeChunk,
    writeChunk + 1,
    2 * writeChunk + 17,
  ];

  for (const size of sizes) {
    it(`stores and streams back ${size} bytes`, async () => {
      const data = randomBytes(size);
      const stored = await store(pieces(data, 7777), writeChunk);
      assert.deepEqual(stored, { oid: stored.oid, byteSize: size, sha256: sha256(data) });
      const back = await readAll(
        openLargeObjectStream(pool, stored.oid, { start: 0, end: size - 1, chunkSize: readChunk }),
      );
      assert.ok(back.equals(data));
      assert.ok((await readLargeObjectRange(pool, stored.oid, 0, size - 1)).equals(data));
    });
  }

  it("stores 5 MB from a Readable with the default chunk sizes", async () => {
    const data = randomBytes(5 * MiB);
    const stored = await store(Readable.from(pieces(data, 100_000)));
    assert.equal(stored.byteSize, data.length);
    assert.equal(stored.sha256, sha256(data));
    const back = await readAll(openLargeObjectStream(pool, stored.oid, { start: 0, end: data.length - 1 }));
    assert.equal(sha256(back), stored.sha256);
  });

  it("serves random ranges byte-exactly", async () => {
    const data = randomBytes(5 * MiB + 123);
    const { oid } = await store(pieces(data, 1 * MiB + 1));
    const ranges: [number, number][] = [
      [0, 0],
      [data.length - 1, data.length - 1],
      [0, data.length - 1],
      [MiB - 1, MiB],
    ];
    for (let i = 0; i < 40; i++) {
      const start = Math.floor(Math.random() * data.length);
      const length = 1 + Math.floor(Math.random() * Math.min(data.length - start, i % 2 ? 2 * MiB : 5000));
      ranges.push([start, start + length - 1]);
    }
    for (const [i, [start, end]] of ranges.entries()) {
      const chunkSize = i % 3 === 0 ? undefined : 1 + ((i * 7919) % (300 * KiB));
      const back = await readAll(openLargeObjectStream(pool, oid, { start, end, chunkSize }));
      assert.ok(
        back.equals(data.subarray(start, end + 1)),
        `range ${start}-${end} in chunks of ${chunkSize}`,
      );
    }
    assert.ok((await readLargeObjectRange(pool, oid, 1000, 1999)).equals(data.subarray(1000, 2000)));
  });

  it("streams an empty range without touching the database", async () => {
    const stream = openLargeObjectStream(pool, 12345, { start: 0, end: -1 });
    assert.equal((await readAll(stream)).length, 0);
  });

  it("rejects invalid arguments before building any SQL", () => {
    const bad: [number, number, number][] = [
      [0, 0, 10],
      [1, -1, 10],
      [1, 5, 3],
      [1, 0.5, 10],
      [2 ** 32, 0, 10],
      [1, 2 ** 53, 2 ** 53 + 10],
    ];
    for (const [oid, start, end] of bad)
      assert.throws(() => openLargeObjectStream(pool, oid, { start, end }), RangeError);
  });
});

describe("writeLargeObject failures leave nothing behind", () => {
  it("aborts early over the cap, and the rollback removes the large object (ABUSE 10)", async () => {
    const before = await largeObjectCount();
    const maxBytes = MiB + 5;
    const sourceChunk = 64 * KiB;
    let pulled = 0;
    async function* endless(): AsyncGenerator<Buffer> {
      for (;;) {
        pulled += sourceChunk;
        yield randomBytes(sourceChunk);
      }
    }
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      await assert.rejects(
        writeLargeObject(client, endless(), { maxBytes, chunkSize: 256 * KiB }),
        (error: unknown) => error instanceof AppError && error.code === "PAYLOAD_TOO_LARGE",
      );
      assert.ok(pulled <= maxBytes + sourceChunk, `pulled ${pulled} bytes for a cap of ${maxBytes}`);
      // Inside the transaction the half-written object exists…
      assert.equal(await largeObjectCount(client), before + 1);
      await client.query("ROLLBACK");
    } finally {
      client.release();
    }
    // …and the rollback removed it: large objects are transactional.
    assert.equal(await largeObjectCount(), before);
  });

  it("accepts exactly maxBytes, and leaves a Readable source alive when it stops early", async () => {
    const data = randomBytes(100_000);
    const stored = await inTransaction((client) =>
      writeLargeObject(client, pieces(data, 4096), { maxBytes: data.length }),
    );
    assert.equal(stored.byteSize, data.length);

    const source = Readable.from(pieces(randomBytes(300_000), 10_000));
    await assert.rejects(
      inTransaction((client) => writeLargeObject(client, source, { maxBytes: data.length })),
      (error: unknown) => error instanceof AppError && error.code === "PAYLOAD_TOO_LARGE",
    );
    assert.equal(source.destroyed, false, "the caller decides what to do with the request");
    source.destroy();
  });

  it("rolls back cleanly when the source fails midway, and the next upload works (ABUSE 11)", async () => {
    const before = await largeObjectCount();
    const disconnect = new Error("aborted");
    const source = new Readable({ read() {} });
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      const writing = writeLargeObject(client, source, { maxBytes: 64 * MiB, chunkSize: 256 * KiB });
      for (let i = 0; i < 12; i++) source.push(randomBytes(100_000));
      await sleep(50);
      source.destroy(disconnect); // what an IncomingMessage does when the client goes away
      await assert.rejects(writing, (error: unknown) => error === disconnect);
      await client.query("ROLLBACK");

      const data = randomBytes(300_000);
      await client.query("BEGIN");
      const stored = await writeLargeObject(client, pieces(data, 50_000), { maxBytes: MiB });
      await client.query("COMMIT");
      assert.equal(stored.sha256, sha256(data));
      assert.equal(await largeObjectCount(), before + 1);
      assert.equal(await unlinkLargeObject(client, stored.oid), true);
    } finally {
      client.release();
    }
    assert.equal(await largeObjectCount(), before);
  });

  it("stops waiting for a stalled source when the signal aborts", async () => {
    const before = await largeObjectCount();
    async function* stalled(): AsyncGenerator<Buffer> {
      yield randomBytes(1000);
      await new Promise(() => {}); // never resolves, like a client that stopped sending
    }
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const started = Date.now();
    await assert.rejects(
      inTransaction((client) =>
        writeLargeObject(client, stalled(), { maxBytes: MiB, signal: controller.signal }),
      ),
      (error: unknown) => error instanceof AppError && error.code === "CANCELLED",
    );
    assert.ok(Date.now() - started < 2000);
    assert.equal(await largeObjectCount(), before);
  });

  it("refuses to write outside a transaction (the object would outlive a failure)", async () => {
    const before = await largeObjectCount();
    const client = await pool.connect();
    try {
      await assert.rejects(
        writeLargeObject(client, pieces(Buffer.from("x"), 1), { maxBytes: 10 }),
        /transaction/,
      );
    } finally {
      client.release();
    }
    assert.equal(await largeObjectCount(), before);
  });

  it("unlinks, and reports an object that is already gone", async () => {
    const { oid } = await store(pieces(Buffer.from("bye"), 3));
    assert.equal(await inTransaction((client) => unlinkLargeObject(client, oid)), true);
    assert.equal(await inTransaction((client) => unlinkLargeObject(client, oid)), false);
  });
});

describe("openLargeObjectStream and its connection", () => {
  let big: Buffer;
  let bigOid: number;

  before(async () => {
    big = randomBytes(24 * MiB);
    bigOid = (await store(pieces(big, MiB))).oid;
  });

  it("honours backpressure: a stalled consumer holds little memory and the server waits (ABUSE 30)", async () => {
    const stream = openLargeObjectStream(pool, bigOid, {
      start: 0,
      end: big.length - 1,
      highWaterMark: 64 * KiB,
    });
    await once(stream, "readable");
    const first = stream.read() as Buffer;
    assert.ok(first.equals(big.subarray(0, first.length)));
    // The server blocks writing to the socket instead of us buffering the object.
    await waitFor("the backend to wait on the client", async () => {
      const { rows } = await pool.query(
        "SELECT wait_event FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'COPY (SELECT lo_get%'",
      );
      return rows[0]?.wait_event === "ClientWrite";
    });
    assert.ok(stream.readableLength <= 2 * MiB, `buffered ${stream.readableLength} bytes`);

    const started = Date.now();
    stream.destroy();
    await once(stream, "close");
    assert.ok(Date.now() - started < 2000, "cancelled promptly");
    assert.deepEqual(await activeQueries(), []);
    await assertPoolHealthy();
  });

  it("releases a reusable connection when the consumer destroys the stream mid-way", async () => {
    const totalBefore = pool.totalCount;
    const received = await readThenDestroy(
      openLargeObjectStream(pool, bigOid, { start: 0, end: big.length - 1 }),
    );
    assert.ok(received < big.length);
    assert.deepEqual(await activeQueries(), []);
    assert.equal(
      pool.totalCount,
      totalBefore,
      "the connection went back to the pool rather than being replaced",
    );
    await assertPoolHealthy();
  });

  it("hands a cancelled connection back only after the server's cancel handling is over", async () => {
    // PostgreSQL's cancel handler signals the backend twice (its pid, then its process group) and
    // closes the cancel connection after both. Met in CI: the first signal failed the COPY, the
    // connection went back to the pool, and the second signal — late on a loaded machine —
    // cancelled the next query on it. A proxy in front of PostgreSQL imitates that late second
    // signal: it forwards the CancelRequest, then sends it once more 100 ms after the server
    // closed it, and only then closes the client's cancel connection.
    const url = new URL(database.url);
    const target = { host: url.hostname, port: Number(url.port || 5432) };
    let cancels = 0;
    const sendCancel = (packet: Buffer) =>
      new Promise<void>((resolve) => {
        const socket = net.connect(target.port, target.host, () => socket.end(packet));
        socket.on("error", () => resolve());
        socket.on("close", () => resolve());
        socket.resume();
      });
    // allowHalfOpen: the client's cancel connection stays open after it sent its packet, as the
    // server's does, until the proxy closes it.
    const proxy = net.createServer({ allowHalfOpen: true }, (client) => {
      client.once("data", (first: Buffer) => {
        if (first.length >= 8 && first.readInt32BE(4) === 80877102) {
          cancels++;
          void (async () => {
            await sendCancel(first);
            await sleep(100);
            await sendCancel(first);
            client.end();
          })();
          return;
        }
        const server = net.connect(target.port, target.host);
        server.write(first);
        client.pipe(server).pipe(client);
        client.on("error", () => server.destroy());
        server.on("error", () => client.destroy());
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    url.hostname = "127.0.0.1";
    url.port = String((proxy.address() as net.AddressInfo).port);
    const proxied = new pg.Pool({ connectionString: url.toString(), max: 1 });
    try {
      await readThenDestroy(openLargeObjectStream(proxied, bigOid, { start: 0, end: big.length - 1 }));
      assert.equal(cancels, 1);
      // The next query on the same connection runs while a late signal would still land.
      const { rows } = await proxied.query("SELECT pg_sleep(0.3), 1 AS one");
      assert.equal(rows[0].one, 1);
      assert.equal(proxied.totalCount, 1, "the connection was reused");
    } finally {
      await proxied.end();
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  it("survives a consumer that gives up before the connection is even acquired", async () => {
    for (let i = 0; i < 10; i++) {
      const stream = openLargeObjectStream(pool, bigOid, { start: 0, end: big.length - 1 });
      if (i % 2) setImmediate(() => stream.destroy());
      else stream.destroy();
      await once(stream, "close");
    }
    assert.deepEqual(await activeQueries(), []);
    await assertPoolHealthy();
  });

  it("streams more concurrent ranges than the pool has connections", async () => {
    const ranges = Array.from({ length: 12 }, (_, i) => [i * MiB, i * MiB + 2 * MiB - 1] as const);
    const results = await Promise.all(
      ranges.map(([start, end]) => readAll(openLargeObjectStream(pool, bigOid, { start, end }))),
    );
    for (const [i, [start, end]] of ranges.entries())
      assert.ok(results[i]!.equals(big.subarray(start, end + 1)));
    await assertPoolHealthy();
  });

  it("fails cleanly when the backend dies mid-stream, and the pool recovers", async () => {
    const stream = openLargeObjectStream(pool, bigOid, {
      start: 0,
      end: big.length - 1,
      highWaterMark: 64 * KiB,
    });
    await once(stream, "readable");
    const failed = assert.rejects(readAll(stream), /terminat|Connection/i);
    await pool.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
       WHERE datname = current_database() AND query LIKE 'COPY (SELECT lo_get%'`,
    );
    await failed;
    await assertPoolHealthy();
  });

  it("fails on a missing object or a range beyond the end, and keeps the pool whole", async () => {
    await assert.rejects(
      readAll(openLargeObjectStream(pool, 4_000_000_000, { start: 0, end: 10 })),
      /does not exist/,
    );
    await assert.rejects(
      readAll(openLargeObjectStream(pool, bigOid, { start: big.length - 10, end: big.length + 10 })),
      /shorter than the requested range/,
    );
    await assertPoolHealthy();
  });
});

describe("MediaStore with a stream it never reads", () => {
  it("handles the stream's own error and closes it when storing fails first", async () => {
    // Met in CI: a scene job stopped with the app, its store failed on the closing pool, the job's
    // work directory was removed, and the clip's file stream then failed to open with nobody
    // listening: an uncaught exception.
    const closed = new pg.Pool({ connectionString: database.url, max: 1 });
    await closed.end();
    const stream = createReadStream("/nonexistent-propvid-dir/clip.mp4");
    await assert.rejects(
      new MediaStore(closed).store("00000000-0000-4000-8000-000000000000", stream, {
        contentType: "video/mp4",
        maxBytes: MiB,
      }),
      /pool/i,
    );
    // ('close' alone: events.once would reject on the stream's error, which is handled by now)
    if (!stream.closed) await new Promise<void>((resolve) => stream.once("close", () => resolve()));
    assert.ok(stream.destroyed);
  });
});
