/**
 * Media streaming against the real server process over real sockets: a browser-style range
 * sequence on a signed URL, conditionals, HEAD, 416, abusive ranges, signed-token failures and
 * a client that goes away mid-stream (ABUSE 25–30, 39).
 */
import assert from "node:assert/strict";
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import sharp from "sharp";
import { TokenService } from "../../src/services/token.service.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { childEnv, gql, runCli, type ServerProcess, startServerProcess } from "../helpers/server-process.js";

/** Not a real secret: only this test's server process uses it. */
const TEST_SECRET = "e2e-media-streaming-test-secret-".padEnd(48, "x");

const sha256 = (bytes: Buffer | Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function get(url: string, headers: Record<string, string> = {}, method = "GET") {
  const response = await fetch(url, { method, headers });
  const body = Buffer.from(await response.arrayBuffer());
  return { status: response.status, headers: response.headers, body };
}

describe("media streaming over a real socket", () => {
  let database: TestDatabase;
  let server: ServerProcess;
  let dataDir: string;
  let db: pg.Client;
  let key: string;
  let source: Buffer;
  let url: string;
  let thumbnailUrl: string;
  let mediaId: string;
  let thumbnailId: string;
  let tenantId: string;
  let etag: string;
  let campaignId: string;
  const tokensUsed: string[] = [];

  before(async () => {
    database = await createTestDatabase();
    dataDir = mkdtempSync(path.join(os.tmpdir(), "propvid-media-e2e-"));
    const port = await freePort();
    const env = childEnv({
      DATABASE_URL: database.url,
      PROPVID_DATA_DIR: dataDir,
      PORT: String(port),
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
      PROPVID_SECRET: TEST_SECRET,
    });
    server = await startServerProcess(env);
    const created = await runCli(["keys", "create", "--tenant", "streaming"], env);
    assert.equal(created.code, 0, created.stderr);
    key = created.stdout.trim();
    db = new pg.Client({ connectionString: database.url });
    await db.connect();

    // A multi-megabyte photo (noise does not compress), uploaded through a signed URL.
    const width = 3200;
    const height = 2400;
    source = await sharp(randomBytes(width * height * 3), { raw: { width, height, channels: 3 } })
      .jpeg({ quality: 95 })
      .toBuffer();
    assert.ok(source.length > 4 * 1024 * 1024, `only ${source.length} bytes`);
    const campaign = await gql<{ createCampaign: { id: string } }>(
      server.url,
      key,
      `mutation { createCampaign(input: { name: "Streaming" }) { id } }`,
    );
    campaignId = campaign.body.data!.createCampaign.id;
    const upload = await gql<{ createAssetUpload: { uploadUrl: string; asset: { id: string } } }>(
      server.url,
      key,
      `mutation($input: CreateAssetUploadInput!) { createAssetUpload(input: $input) { uploadUrl asset { id } } }`,
      {
        input: {
          campaignId,
          filename: "noise.jpg",
          contentType: "image/jpeg",
          byteSize: source.length,
        },
      },
    );
    assert.equal(upload.body.errors, undefined, JSON.stringify(upload.body.errors));
    const put = await fetch(upload.body.data!.createAssetUpload.uploadUrl, { method: "PUT", body: source });
    assert.equal(put.status, 200, await put.clone().text());
    const asset = await gql<{ asset: { status: string; url: string; thumbnailUrl: string } }>(
      server.url,
      key,
      `query($id: ID!) { asset(id: $id) { status url thumbnailUrl } }`,
      { id: upload.body.data!.createAssetUpload.asset.id },
    );
    assert.equal(asset.body.data!.asset.status, "READY");
    ({ url, thumbnailUrl } = asset.body.data!.asset);
    mediaId = new URL(url).pathname.split("/").pop()!;
    thumbnailId = new URL(thumbnailUrl).pathname.split("/").pop()!;
    tokensUsed.push(
      new URL(url).searchParams.get("token")!,
      new URL(thumbnailUrl).searchParams.get("token")!,
    );
    tenantId = (await db.query("SELECT tenant_id FROM media WHERE id = $1", [mediaId])).rows[0].tenant_id;
    etag = `"${sha256(source)}"`;
  });
  after(async () => {
    await db?.end();
    await server?.stop();
    await database?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("serves a browser-style sequence (first bytes, seek to the middle, the tail) from a signed URL", async () => {
    assert.ok(url.startsWith(server.url), "the signed URL points at this server");
    const size = source.length;

    const probe = await get(url, { range: "bytes=0-1" });
    assert.equal(probe.status, 206);
    assert.equal(probe.headers.get("content-range"), `bytes 0-1/${size}`);
    assert.equal(probe.headers.get("content-length"), "2");
    assert.equal(probe.headers.get("accept-ranges"), "bytes");
    assert.equal(probe.headers.get("etag"), etag);
    assert.equal(probe.headers.get("content-type"), "image/jpeg");
    assert.deepEqual(probe.body, source.subarray(0, 2));

    const middle = Math.floor(size / 2);
    const seek = await get(url, { range: `bytes=${middle}-`, "if-range": etag });
    assert.equal(seek.status, 206);
    assert.equal(seek.headers.get("content-range"), `bytes ${middle}-${size - 1}/${size}`);
    assert.equal(Number(seek.headers.get("content-length")), size - middle);
    assert.ok(seek.body.equals(source.subarray(middle)), "the second half matches byte for byte");

    const tail = await get(url, { range: "bytes=-65536" });
    assert.equal(tail.status, 206);
    assert.equal(tail.headers.get("content-range"), `bytes ${size - 65536}-${size - 1}/${size}`);
    assert.ok(tail.body.equals(source.subarray(size - 65536)));

    const window = await get(url, { range: `bytes=${middle - 1000}-${middle + 999}` });
    assert.equal(window.status, 206);
    assert.ok(window.body.equals(source.subarray(middle - 1000, middle + 1000)));

    const beyond = await get(url, { range: `bytes=${size - 10}-${size + 1_000_000}` });
    assert.equal(beyond.status, 206);
    assert.equal(beyond.headers.get("content-range"), `bytes ${size - 10}-${size - 1}/${size}`);
    assert.ok(beyond.body.equals(source.subarray(size - 10)));

    const whole = await get(url);
    assert.equal(whole.status, 200);
    assert.equal(Number(whole.headers.get("content-length")), size);
    assert.equal(sha256(whole.body), sha256(source));
    assert.equal(whole.headers.get("accept-ranges"), "bytes");
    assert.match(whole.headers.get("content-disposition")!, /^inline; filename="propvid-[0-9a-f-]+\.jpg"$/);
    assert.ok(Number.isFinite(Date.parse(whole.headers.get("last-modified")!)));
    const download = await get(`${url}&download=1`, { range: "bytes=0-0" });
    assert.match(download.headers.get("content-disposition")!, /^attachment; /);
  });

  it("honours conditionals: If-None-Match → 304, If-Range current → 206, stale or weak → 200 full", async () => {
    const notModified = await get(url, { "if-none-match": etag });
    assert.equal(notModified.status, 304);
    assert.equal(notModified.body.length, 0);
    assert.equal(notModified.headers.get("etag"), etag);
    assert.equal((await get(url, { "if-none-match": `"other", W/${etag}` })).status, 304);
    assert.equal((await get(url, { "if-none-match": '"something-else"', range: "bytes=0-0" })).status, 206);
    const lastModified = (await get(url, { range: "bytes=0-0" })).headers.get("last-modified")!;
    assert.equal((await get(url, { "if-modified-since": lastModified })).status, 304);

    const current = await get(url, { range: "bytes=10-19", "if-range": etag });
    assert.equal(current.status, 206);
    assert.ok(current.body.equals(source.subarray(10, 20)));
    for (const stale of ['"0000"', `W/${etag}`, "Thu, 01 Jan 1970 00:00:00 GMT"]) {
      const full = await get(url, { range: "bytes=10-19", "if-range": stale });
      assert.equal(full.status, 200, stale);
      assert.equal(full.body.length, source.length, stale);
    }
    await new Promise((resolve) => setTimeout(resolve, 1100)); // Last-Modified becomes a strong validator
    const byDate = await get(url, { range: "bytes=10-19", "if-range": lastModified });
    assert.equal(byDate.status, 206);
  });

  it("answers HEAD with headers only", async () => {
    const head = await get(url, {}, "HEAD");
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("content-length"), String(source.length));
    assert.equal(head.headers.get("etag"), etag);
    assert.equal(head.headers.get("accept-ranges"), "bytes");
    assert.equal(head.body.length, 0);
    const ranged = await get(url, { range: "bytes=100-199" }, "HEAD");
    assert.equal(ranged.status, 206);
    assert.equal(ranged.headers.get("content-length"), "100");
    assert.equal(ranged.headers.get("content-range"), `bytes 100-199/${source.length}`);
    assert.equal(ranged.body.length, 0);
  });

  it("answers 416 with Content-Range bytes */N for unsatisfiable ranges", async () => {
    const size = source.length;
    for (const range of [
      `bytes=${size}-`,
      "bytes=-0",
      `bytes=${size + 5}-${size + 10}`,
      `bytes=${size}-,${size + 1}-`,
    ]) {
      const response = await get(url, { range });
      assert.equal(response.status, 416, range);
      assert.equal(response.headers.get("content-range"), `bytes */${size}`, range);
      assert.equal(response.body.length, 0, range);
    }
  });

  it("answers abusive ranges with 200 and the whole body, never 500 and never stray bytes", async () => {
    const overlapping = Array.from({ length: 40 }, (_, i) => `${i}-${i + 1000}`).join(",");
    for (const range of [
      "bytes=0-18446744073709551615",
      "bytes=-17208,-9223372036854758792",
      "bytes=9007199254740993-",
      `bytes=${overlapping}`,
      "bytes=0-1,5-6",
      "bytes=5-1",
      "bytes=--1",
      "items=0-1",
      `bytes=${"0".repeat(2000)}-1`,
    ]) {
      const response = await get(url, { range });
      assert.equal(response.status, 200, range);
      assert.equal(response.headers.get("content-range"), null, range);
      assert.equal(sha256(response.body), sha256(source), range);
    }
  });

  it("answers 403 with an empty body for expired, tampered, foreign and wrong-purpose tokens", async () => {
    const tokens = new TokenService(TEST_SECRET);
    const past = new TokenService(TEST_SECRET, () => Date.now() - 2 * 3600 * 1000);
    const valid = new URL(url).searchParams.get("token")!;
    const thumbnailToken = new URL(thumbnailUrl).searchParams.get("token")!;
    const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    /** Changes the last character's two unused bits: other text, the same decoded signature. */
    const respell = (token: string) =>
      `${token.slice(0, -1)}${ALPHABET[ALPHABET.indexOf(token.at(-1)!) ^ 1]}`;
    const flip = (token: string) => `${token.slice(0, -2)}${token.at(-2) === "A" ? "B" : "A"}${token.at(-1)}`;
    const cases: [string, string][] = [
      ["expired", past.sign({ id: mediaId, purpose: "view", tenantId }, 60).token],
      ["tampered signature", flip(valid)],
      ["the signature spelled differently", respell(valid)],
      ["tampered expiry", valid.replace(/^\d+/, (expiry) => String(Number(expiry) + 3600))],
      ["tampered purpose", valid.replace(".view.", ".download.")],
      ["another media object's token", thumbnailToken],
      ["upload purpose", tokens.sign({ id: mediaId, purpose: "upload", tenantId }, 60).token],
      ["another tenant", tokens.sign({ id: mediaId, purpose: "view", tenantId: randomUUID() }, 60).token],
      ["garbage", "x"],
      ["empty", ""],
    ];
    for (const [name, token] of cases) {
      const response = await get(`${server.url}/v1/media/${mediaId}?token=${encodeURIComponent(token)}`);
      assert.equal(response.status, 403, name);
      assert.equal(response.body.length, 0, name);
    }
    const repeated = await get(`${server.url}/v1/media/${mediaId}?token=${valid}&token=${valid}`);
    assert.equal(repeated.status, 403);
    assert.equal(repeated.body.length, 0);
    const unknown = await get(`${server.url}/v1/media/${randomUUID()}?token=${valid}`);
    assert.equal(unknown.status, 403);
    assert.equal(unknown.body.length, 0);

    // Another purpose the server signs for reading works the same way.
    const download = tokens.sign({ id: mediaId, purpose: "download", tenantId }, 60).token;
    const ok = await get(`${server.url}/v1/media/${mediaId}?token=${download}`, { range: "bytes=0-3" });
    assert.equal(ok.status, 206);
    assert.ok(ok.body.equals(source.subarray(0, 4)));
    assert.equal((await get(`${server.url}/v1/media/${thumbnailId}?token=${thumbnailToken}`)).status, 200);
  });

  it("needs a key or a token; another tenant's key sees 404 exactly like a random id (ABUSE 39)", async () => {
    const anonymous = await get(`${server.url}/v1/media/${mediaId}`);
    assert.equal(anonymous.status, 401);
    const own = await get(`${server.url}/v1/media/${mediaId}`, { "x-api-key": key, range: "bytes=0-9" });
    assert.equal(own.status, 206);
    assert.ok(own.body.equals(source.subarray(0, 10)));

    const other = await runCli(
      ["keys", "create", "--tenant", "someone-else"],
      childEnv({ DATABASE_URL: database.url, PROPVID_DATA_DIR: dataDir }),
    );
    assert.equal(other.code, 0, other.stderr);
    const otherKey = other.stdout.trim();
    const foreign = await get(`${server.url}/v1/media/${mediaId}`, { "x-api-key": otherKey });
    const random = await get(`${server.url}/v1/media/${randomUUID()}`, { "x-api-key": otherKey });
    const malformed = await get(`${server.url}/v1/media/not-a-uuid`, { "x-api-key": otherKey });
    assert.equal(foreign.status, 404);
    assert.equal(foreign.body.toString(), random.body.toString());
    assert.equal(malformed.body.toString(), random.body.toString());
    assert.equal(
      (await get(`${server.url}/v1/media/${mediaId}`, { authorization: `Bearer ${otherKey}` }, "HEAD"))
        .status,
      404,
    );
  });

  it("stops the database read when the client disconnects mid-stream; no connection leaks", async () => {
    // A 48 MB media object, more than the socket buffers between PostgreSQL, the server and this
    // client can hold: a stalled reader keeps its COPY running where pg_stat_activity can see it.
    const big = randomBytes(48 * 1024 * 1024);
    await db.query("BEGIN");
    const oid = Number((await db.query("SELECT lo_create(0) AS oid")).rows[0].oid);
    for (let offset = 0; offset < big.length; offset += 4 * 1024 * 1024) {
      await db.query("SELECT lo_put($1, $2, $3)", [
        oid,
        offset,
        big.subarray(offset, offset + 4 * 1024 * 1024),
      ]);
    }
    const bigId = (
      await db.query(
        `INSERT INTO media (tenant_id, lo_oid, byte_size, sha256, content_type)
         VALUES ($1, $2, $3, $4, 'video/mp4') RETURNING id`,
        [tenantId, oid, big.length, sha256(big)],
      )
    ).rows[0].id as string;
    await db.query("COMMIT");
    const bigToken = new TokenService(TEST_SECRET).sign({ id: bigId, purpose: "view", tenantId }, 600).token;
    const bigUrl = `${server.url}/v1/media/${bigId}?token=${bigToken}`;

    const activeReads = async () =>
      Number(
        (
          await db.query(
            `SELECT count(*) AS n FROM pg_stat_activity
              WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active'
                AND (query ILIKE '%lo_get%' OR query ILIKE '%loread%' OR query ILIKE 'copy%')`,
          )
        ).rows[0].n,
      );
    const waitForReads = async (wanted: number, timeoutMs = 2_000) => {
      const deadline = Date.now() + timeoutMs;
      let active = await activeReads();
      while (active !== wanted && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        active = await activeReads();
      }
      return active;
    };
    /** Starts a GET, reads `bytes` bytes, then stops reading (and keeps the connection open). */
    const stall = (bytes: number) =>
      new Promise<{ request: http.ClientRequest; response: http.IncomingMessage; chunks: Buffer[] }>(
        (resolve, reject) => {
          const chunks: Buffer[] = [];
          let received = 0;
          const request = http.get(bigUrl, (response) => {
            if (response.statusCode !== 200) reject(new Error(`status ${response.statusCode}`));
            const onData = (chunk: Buffer) => {
              chunks.push(chunk);
              received += chunk.length;
              if (received >= bytes) {
                response.pause();
                response.off("data", onData);
                resolve({ request, response, chunks });
              }
            };
            response.on("data", onData);
            response.on("error", () => undefined);
          });
          request.on("error", (error) => {
            if (!request.destroyed) reject(error);
          });
        },
      );

    // A reader that stops pulling: its read runs while buffers fill, then hands the connection back
    // although the client is still there; when it reads again it gets exactly the right bytes.
    const paused = await stall(256 * 1024);
    assert.equal(await waitForReads(1, 1_000), 1, "the read is running");
    assert.equal(await waitForReads(0, 5_000), 0, "a stalled reader holds no database connection");
    const rest = new Promise<Buffer>((resolve, reject) => {
      paused.response.on("data", (chunk: Buffer) => paused.chunks.push(chunk));
      paused.response.once("end", () => resolve(Buffer.concat(paused.chunks)));
      paused.response.once("error", reject);
    });
    paused.response.resume();
    assert.equal(sha256(await rest), sha256(big), "the resumed stream delivers every byte once, in order");

    // A client that goes away mid-stream: the read stops at once (well before a stall would stop it).
    const leaving = await stall(256 * 1024);
    assert.equal(await waitForReads(1, 1_000), 1);
    leaving.request.destroy();
    assert.equal(await waitForReads(0, 1_000), 0, "the read stopped within a second of the disconnect");

    // More stalled readers than the pool has connections: every one is served, and so is the API.
    const many = await Promise.all(Array.from({ length: 15 }, () => stall(64 * 1024)));
    const viewer = await gql<{ viewer: { tenant: { name: string } } }>(
      server.url,
      key,
      "{ viewer { tenant { name } } }",
    );
    assert.equal(viewer.body.data?.viewer.tenant.name, "streaming");
    for (const { request } of many) request.destroy();
    assert.equal(await waitForReads(0), 0, "no large-object read is left running");

    // The pool is whole: the next requests are served in full and in time.
    const started = Date.now();
    const whole = await get(bigUrl);
    assert.equal(whole.status, 200);
    assert.equal(sha256(whole.body), sha256(big));
    const small = await get(url);
    assert.equal(sha256(small.body), sha256(source));
    assert.ok(Date.now() - started < 10_000, "the pool was not exhausted");
    const idleInTransaction = await db.query(
      `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'`,
    );
    assert.equal(Number(idleInTransaction.rows[0].n), 0);
  });

  it("answers an over-long PUT with 413 on the socket, reads no further, and the URL still works (ABUSE 10)", async () => {
    const photo = await sharp({ create: { width: 320, height: 240, channels: 3, background: "#707a80" } })
      .jpeg()
      .toBuffer();
    const created = await gql<{ createAssetUpload: { uploadUrl: string; asset: { id: string } } }>(
      server.url,
      key,
      `mutation($input: CreateAssetUploadInput!) { createAssetUpload(input: $input) { uploadUrl asset { id } } }`,
      { input: { campaignId, filename: "small.jpg", contentType: "image/jpeg", byteSize: photo.length } },
    );
    const uploadUrl = created.body.data!.createAssetUpload.uploadUrl;
    const mediaBefore = Number((await db.query("SELECT count(*) AS n FROM media")).rows[0].n);

    /** Sends the head, then `body` (if any), and resolves with the answer without sending more. */
    const put = (headers: Record<string, string>, body?: Buffer) =>
      new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
        const request = http.request(uploadUrl, { method: "PUT", headers }, (response) => {
          response.resume();
          resolve({ status: response.statusCode!, connection: response.headers.connection });
          request.destroy();
        });
        request.on("error", reject);
        if (body) request.write(body);
        else request.flushHeaders();
      });
    // A declared length over the URL's cap: refused on the head alone.
    const declared = await put({ "content-length": String(20 * 1024 * 1024) });
    assert.deepEqual(declared, { status: 413, connection: "close" });
    // A chunked body that runs past the cap: refused once the cap is passed.
    const chunked = await put({ "transfer-encoding": "chunked" }, randomBytes(2 * 1024 * 1024));
    assert.deepEqual(chunked, { status: 413, connection: "close" });
    assert.equal(Number((await db.query("SELECT count(*) AS n FROM media")).rows[0].n), mediaBefore);

    const retry = await fetch(uploadUrl, { method: "PUT", body: photo });
    assert.equal(retry.status, 200);
    assert.equal(((await retry.json()) as { asset: { status: string } }).asset.status, "READY");
  });

  it("never logs a signed-URL token (ABUSE 38)", () => {
    const output = server.output();
    for (const token of tokensUsed) {
      const signature = token.split(".").pop()!;
      assert.ok(!output.includes(signature), "a token's signature reached the log");
    }
    assert.ok(!output.includes(key.slice(14)), "the API key reached the log");
  });
});
