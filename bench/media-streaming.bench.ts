/**
 * Large objects against plain files, over real HTTP: the same 200 MB served from a PostgreSQL
 * large object (openLargeObjectStream) and from a file (fs.createReadStream), with the same Range
 * handling (src/http/range.ts), and the same upload written into a large object
 * (writeLargeObject) and into a file. The HTTP server runs in a child process (this module, with
 * SERVER_FLAG) so that its RSS is not mixed with the clients'.
 */
import { type ChildProcess, fork } from "node:child_process";
import { createHash, randomFillSync } from "node:crypto";
import { once } from "node:events";
import { chmodSync, createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { open, stat } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { createDataSource, runMigrations } from "../src/db/data-source.js";
import { startEmbeddedPostgres } from "../src/db/embedded-postgres.js";
import {
  contentRangeHeader,
  etagFromSha256,
  evaluateConditionals,
  parseRange,
  unsatisfiedRangeHeader,
} from "../src/http/range.js";
import { silentLogger } from "../src/logger.js";
import {
  openLargeObjectStream,
  unlinkLargeObject,
  writeLargeObject,
} from "../src/media/large-object.store.js";
import type { Benchmark } from "./benchmarks.js";

const MiB = 1024 * 1024;
const SIZE = 200 * MiB;
const SERVER_FLAG = "--media-streaming-bench-server";
const CONFIG_ENV = "PROPVID_MEDIA_BENCH_CONFIG";
/** No single request of this benchmark should come anywhere near this. */
const REQUEST_TIMEOUT_MS = 120_000;

interface ServerConfig {
  databaseUrl: string;
  oid: number;
  filePath: string;
  uploadPath: string;
  size: number;
  sha256: string;
}

// ---------------------------------------------------------------------------------------------
// The server (child process)

interface Representation {
  size: number;
  etag: string;
  open(start: number, end: number): NodeJS.ReadableStream;
}

/** GET/HEAD of one immutable representation with Range and conditionals, as a media route would. */
function serveRepresentation(req: http.IncomingMessage, res: http.ServerResponse, rep: Representation): void {
  res.setHeader("Accept-Ranges", "bytes");
  res.setHeader("ETag", rep.etag);
  const header = (name: string) => {
    const value = req.headers[name];
    return Array.isArray(value) ? value.join(", ") : value;
  };
  const outcome = evaluateConditionals({
    method: req.method ?? "GET",
    ifNoneMatch: header("if-none-match"),
    ifRange: header("if-range"),
    etag: rep.etag,
  });
  if (outcome === "not-modified") {
    res.writeHead(304).end();
    return;
  }
  let range = parseRange(header("range"), rep.size);
  if (outcome === "ignore-range") range = { kind: "none" };
  if (range.kind === "unsatisfiable") {
    res.writeHead(416, { "Content-Range": unsatisfiedRangeHeader(rep.size) }).end();
    return;
  }
  const [start, end] = range.kind === "single" ? [range.start, range.end] : [0, rep.size - 1];
  res.setHeader("Content-Length", end - start + 1);
  if (range.kind === "single") res.setHeader("Content-Range", contentRangeHeader(start, end, rep.size));
  res.writeHead(range.kind === "single" ? 206 : 200);
  if (req.method === "HEAD" || end < start) {
    res.end();
    return;
  }
  // A client that goes away destroys the body: for a large object that cancels the query.
  pipeline(rep.open(start, end), res).catch(() => {});
}

/** CPU time of a local process from /proc (Linux), or NaN: where a write's time goes. */
function processCpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in clock ticks of 10 ms
  } catch {
    return Number.NaN;
  }
}

async function receiveIntoLargeObject(pool: pg.Pool, req: http.IncomingMessage): Promise<object> {
  const client = await pool.connect();
  try {
    const backendPid = (await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid;
    const backendCpu = processCpuMs(backendPid);
    const nodeCpu = process.cpuUsage();
    await client.query("BEGIN");
    const stored = await writeLargeObject(client, req, { maxBytes: 2 * SIZE });
    await client.query("COMMIT");
    const node = process.cpuUsage(nodeCpu);
    return {
      ...stored,
      backendCpuMs: processCpuMs(backendPid) - backendCpu,
      nodeCpuMs: (node.user + node.system) / 1000,
    };
  } catch (error) {
    await client.query("ROLLBACK");
    throw error;
  } finally {
    client.release();
  }
}

/** The file baseline does the same work minus the database: hash, write, and make it durable. */
async function receiveIntoFile(req: http.IncomingMessage, filePath: string): Promise<object> {
  const hash = createHash("sha256");
  req.on("data", (chunk: Buffer) => hash.update(chunk));
  const started = performance.now();
  await pipeline(req, createWriteStream(filePath, { highWaterMark: MiB }));
  const written = performance.now();
  // A committed large object is durable; the fair baseline is a synced file.
  const file = await open(filePath, "r+");
  try {
    await file.sync();
  } finally {
    await file.close();
  }
  return { sha256: hash.digest("hex"), writeMs: written - started, syncMs: performance.now() - written };
}

async function serve(config: ServerConfig): Promise<void> {
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 40 });
  let peakRss = process.memoryUsage.rss();
  setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }, 10).unref();

  const etag = etagFromSha256(config.sha256);
  const largeObject: Representation = {
    size: config.size,
    etag,
    open: (start, end) => openLargeObjectStream(pool, config.oid, { start, end }),
  };
  const file: Representation = {
    size: config.size,
    etag,
    open: (start, end) => createReadStream(config.filePath, { start, end }),
  };
  const json = (res: http.ServerResponse, status: number, body: object) =>
    res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(body));

  const server = http.createServer((req, res) => {
    const route = `${req.method} ${req.url}`;
    if (route === "GET /media/lo" || route === "HEAD /media/lo") serveRepresentation(req, res, largeObject);
    else if (route === "GET /media/file" || route === "HEAD /media/file") serveRepresentation(req, res, file);
    else if (route === "PUT /upload/lo" || route === "PUT /upload/file") {
      const receiving =
        route === "PUT /upload/lo"
          ? receiveIntoLargeObject(pool, req)
          : receiveIntoFile(req, config.uploadPath);
      receiving.then(
        (result) => json(res, 200, result),
        (error: Error) => json(res, 500, { error: error.message }),
      );
    } else if (route === "GET /stats") json(res, 200, { rss: process.memoryUsage.rss(), peakRss });
    else if (route === "POST /stats/reset") {
      peakRss = process.memoryUsage.rss();
      json(res, 200, { rss: peakRss });
    } else json(res, 404, { error: "not found" });
  });
  server.listen(0, "127.0.0.1", () => {
    const address = server.address();
    process.send?.({ port: typeof address === "object" && address ? address.port : 0 });
  });
  process.on("SIGTERM", () => {
    server.close();
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 2000).unref(); // in case a stream still holds a connection
    void pool.end().finally(() => process.exit(0));
  });
}

if (process.argv[2] === SERVER_FLAG) {
  const config = JSON.parse(process.env[CONFIG_ENV] ?? "null") as ServerConfig;
  void serve(config);
}

// ---------------------------------------------------------------------------------------------
// The clients (benchmark process)

async function startServer(config: ServerConfig): Promise<{ child: ChildProcess; base: string }> {
  const child = fork(fileURLToPath(import.meta.url), [SERVER_FLAG], {
    env: { ...process.env, [CONFIG_ENV]: JSON.stringify(config) },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once("message", (message: { port: number }) => resolve(message.port));
    child.once("exit", (code) => reject(new Error(`the benchmark server exited with ${code}`)));
  });
  return { child, base: `http://127.0.0.1:${port}` };
}

/** GETs `url`, discards the body and returns its length (checking the status). */
async function download(
  url: string,
  headers: Record<string, string> = {},
  hash?: ReturnType<typeof createHash>,
) {
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  if (response.status !== 200 && response.status !== 206) throw new Error(`GET ${url}: ${response.status}`);
  let bytes = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    bytes += chunk.length;
    hash?.update(chunk);
  }
  return bytes;
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const started = performance.now();
  const result = await fn();
  return { ms: performance.now() - started, result };
}

async function statsOf(base: string, reset = false): Promise<{ rss: number; peakRss: number }> {
  const response = await fetch(`${base}/stats${reset ? "/reset" : ""}`, { method: reset ? "POST" : "GET" });
  return (await response.json()) as { rss: number; peakRss: number };
}

async function upload(base: string, route: string, filePath: string): Promise<{ ms: number; body: string }> {
  const started = performance.now();
  const request = http.request(`${base}${route}`, {
    method: "PUT",
    headers: { "Content-Type": "application/octet-stream", "Content-Length": SIZE },
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const [[response]] = await Promise.all([
    once(request, "response") as Promise<[http.IncomingMessage]>,
    pipeline(createReadStream(filePath, { highWaterMark: MiB }), request),
  ]);
  let body = "";
  for await (const chunk of response) body += chunk;
  if (response.statusCode !== 200) throw new Error(`PUT ${route}: ${response.statusCode} ${body}`);
  return { ms: performance.now() - started, body };
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Full reads by `clients` concurrent clients: aggregate MB/s. */
async function throughput(url: string, clients: number): Promise<number> {
  const { ms, result } = await timed(() => Promise.all(Array.from({ length: clients }, () => download(url))));
  const bytes = result.reduce((a, b) => a + b, 0);
  if (bytes !== clients * SIZE) throw new Error(`short read from ${url}: ${bytes}`);
  return bytes / MiB / (ms / 1000);
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const fmt = (value: number, digits = 0) => value.toFixed(digits);
const verdict = (ok: boolean) => (ok ? "OK" : "MISS");

async function writeRandomFile(filePath: string, size: number): Promise<string> {
  const hash = createHash("sha256");
  const file = await open(filePath, "w");
  try {
    const block = Buffer.allocUnsafe(4 * MiB);
    for (let written = 0; written < size; written += block.length) {
      const piece = block.subarray(0, Math.min(block.length, size - written));
      randomFillSync(piece);
      hash.update(piece);
      await file.write(piece);
    }
  } finally {
    await file.close();
  }
  return hash.digest("hex");
}

async function run(): Promise<string[]> {
  const lines: string[] = [];
  const scratch = mkdtempSync(path.join(os.tmpdir(), "propvid-media-bench-"));
  chmodSync(scratch, 0o755); // the postgres system user must be able to enter it
  let database: Awaited<ReturnType<typeof startEmbeddedPostgres>> | undefined;
  let server: { child: ChildProcess; base: string } | undefined;
  try {
    database = await startEmbeddedPostgres({ dataDir: path.join(scratch, "postgres"), logger: silentLogger });
    const dataSource = createDataSource({ url: database.url, logger: silentLogger, poolSize: 1 });
    await dataSource.initialize();
    await runMigrations(dataSource);
    await dataSource.destroy();

    const filePath = path.join(scratch, "media.bin");
    const sha256 = await writeRandomFile(filePath, SIZE);
    const stored = await withClient(database.url, (client) =>
      timed(async () => {
        await client.query("BEGIN");
        const result = await writeLargeObject(client, createReadStream(filePath), { maxBytes: SIZE });
        await client.query("COMMIT");
        return result;
      }),
    );
    if (stored.result.sha256 !== sha256 || stored.result.byteSize !== SIZE)
      throw new Error("stored bytes differ");
    const oid = stored.result.oid;
    lines.push(
      `setup: 200 MB from disk into a large object in ${fmt(stored.ms)} ms (${fmt(SIZE / MiB / (stored.ms / 1000))} MB/s, commit included)`,
    );

    const uploadPath = path.join(scratch, "upload.bin");
    server = await startServer({ databaseUrl: database.url, oid, filePath, uploadPath, size: SIZE, sha256 });
    const lo = `${server.base}/media/lo`;
    const file = `${server.base}/media/file`;

    // Warm-up, and a correctness check of the whole pipeline.
    for (const url of [lo, file]) {
      const hash = createHash("sha256");
      await download(url, {}, hash);
      if (hash.digest("hex") !== sha256) throw new Error(`${url} served different bytes`);
    }
    // Measure reads in a steady state: the ingest left ~200 MB of dirty pages (and the first read
    // set hint bits on every tuple), which the server would otherwise be writing back meanwhile.
    await withClient(database.url, (client) => client.query("CHECKPOINT"));

    for (const clients of [1, 8]) {
      // Best of interleaved rounds: on a shared machine a burst of load then hits both sides alike.
      let loRate = 0;
      let fileRate = 0;
      for (let round = 0; round < (clients === 1 ? 3 : 2); round++) {
        loRate = Math.max(loRate, await throughput(lo, clients));
        fileRate = Math.max(fileRate, await throughput(file, clients));
      }
      const ratio = loRate / fileRate;
      lines.push(
        `sequential ${clients} client${clients > 1 ? "s" : ""}: LO ${fmt(loRate)} MB/s, file ${fmt(fileRate)} MB/s, ` +
          `ratio ${fmt(ratio, 2)} (goal ≥ 0.5) ${verdict(ratio >= 0.5)}`,
      );
    }

    const samples = 200;
    const latencies = { lo: [] as number[], file: [] as number[] };
    for (let i = 0; i < samples; i++) {
      const start = Math.floor(Math.random() * (SIZE - MiB));
      const headers = { Range: `bytes=${start}-${start + MiB - 1}` };
      // Alternate the order so that neither side always runs on a warmer machine.
      for (const which of i % 2 ? (["lo", "file"] as const) : (["file", "lo"] as const)) {
        const { ms, result } = await timed(() => download(which === "lo" ? lo : file, headers));
        if (result !== MiB) throw new Error(`range read returned ${result} bytes`);
        latencies[which].push(ms);
      }
    }
    const p50 = [percentile(latencies.lo, 50), percentile(latencies.file, 50)] as const;
    const p99 = [percentile(latencies.lo, 99), percentile(latencies.file, 99)] as const;
    lines.push(
      `random 1 MB ranges (${samples} each): p50 LO ${fmt(p50[0], 2)} ms, file ${fmt(p50[1], 2)} ms, ` +
        `ratio ${fmt(p50[0] / p50[1], 2)} (goal ≤ 1.5) ${verdict(p50[0] / p50[1] <= 1.5)}; ` +
        `p99 LO ${fmt(p99[0], 2)} ms, file ${fmt(p99[1], 2)} ms, ratio ${fmt(p99[0] / p99[1], 2)}`,
    );

    const concurrent = 20;
    const baseline = await statsOf(server.base, true);
    const { ms: memoryMs } = await timed(() =>
      Promise.all(Array.from({ length: concurrent }, () => download(lo))),
    );
    const afterStreams = await statsOf(server.base);
    const growth = (afterStreams.peakRss - baseline.rss) / MiB;
    lines.push(
      `memory, ${concurrent} clients streaming 200 MB from the LO: server RSS ${fmt(baseline.rss / MiB)} MB → peak ` +
        `${fmt(afterStreams.peakRss / MiB)} MB, growth ${fmt(growth)} MB (goal < 64 MB) ${verdict(growth < 64)}; ` +
        `${fmt((concurrent * SIZE) / MiB / (memoryMs / 1000))} MB/s aggregate`,
    );

    // Best of two rounds for each side; the RSS is watched during the first LO upload.
    const unlink = (uploadedOid: number) =>
      withClient(database!.url, async (client) => {
        await client.query("BEGIN");
        await unlinkLargeObject(client, uploadedOid);
        await client.query("COMMIT");
      });
    type LargeObjectUpload = { oid: number; sha256: string; backendCpuMs: number; nodeCpuMs: number };
    let best: { lo: number; file: number; fsync: number; cpu?: LargeObjectUpload } = {
      lo: Number.POSITIVE_INFINITY,
      file: Number.POSITIVE_INFINITY,
      fsync: 0,
    };
    let rssGrowth = 0;
    for (let round = 0; round < 2; round++) {
      const beforeUpload = await statsOf(server.base, true);
      const loUpload = await upload(server.base, "/upload/lo", filePath);
      if (round === 0) rssGrowth = ((await statsOf(server.base)).peakRss - beforeUpload.rss) / MiB;
      const uploaded = JSON.parse(loUpload.body) as LargeObjectUpload;
      if (uploaded.sha256 !== sha256) throw new Error("the uploaded large object has different bytes");
      await unlink(uploaded.oid);
      if (loUpload.ms < best.lo) best = { ...best, lo: loUpload.ms, cpu: uploaded };

      const fileUpload = await upload(server.base, "/upload/file", filePath);
      const fileResult = JSON.parse(fileUpload.body) as { sha256: string; syncMs: number };
      if (fileResult.sha256 !== sha256 || (await stat(uploadPath)).size !== SIZE) {
        throw new Error("the uploaded file has different bytes");
      }
      if (fileUpload.ms < best.file) best = { ...best, file: fileUpload.ms, fsync: fileResult.syncMs };
    }
    const ratio = best.lo / best.file;
    lines.push(
      `ingest 200 MB upload: LO ${fmt(best.lo)} ms, file ${fmt(best.file)} ms ` +
        `(hashed and fsynced, fsync ${fmt(best.fsync)} ms), ratio ${fmt(ratio, 2)} (goal ≤ 2) ${verdict(ratio <= 2)}; ` +
        `server RSS growth during the LO upload ${fmt(rssGrowth)} MB`,
      `ingest CPU (LO): PostgreSQL backend ${fmt(best.cpu!.backendCpuMs)} ms, server process ${fmt(best.cpu!.nodeCpuMs)} ms ` +
        "(the backend's share is the floor: a heap tuple, an index entry, a compression attempt and a WAL record per 2 kB page)",
    );
    await unlink(oid);
    return lines;
  } finally {
    if (server && server.child.exitCode === null && server.child.signalCode === null) {
      const exited = once(server.child, "exit");
      server.child.kill("SIGTERM");
      await exited;
    }
    await database?.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

export const mediaStreamingBenchmark: Benchmark = {
  name: "media-streaming",
  description: "200 MB served and ingested through PostgreSQL large objects vs plain files, over HTTP",
  run,
};
