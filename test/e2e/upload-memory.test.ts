/**
 * ABUSE 41 against the real server process: 20 photos of 45 MB uploaded at once by signed URL.
 * The server streams each into its large object as it arrives and decodes the photos in its image
 * analysis process, one at a time, so its memory stays flat (VmRSS growth ≤ 64 MB, sampled every
 * 20 ms; it held all 900 MB before, and ~45 MB more while it decoded a photo itself), and every
 * stored photo comes back with the SHA-256 it was sent with. A decoder killed mid-photo rejects
 * that photo only. (The concurrency bound itself, 429 beyond it, is tested with small bounds in
 * test/integration/http-hardening.test.ts.)
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { createReadStream, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { after, before, describe, it } from "node:test";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { until } from "../helpers/deadline.js";
import { jpegCommentSegment, largeCameraJpeg } from "../helpers/large-photo.js";
import { analysisProcessOf, mapsFile } from "../helpers/procfs.js";
import {
  childEnv,
  gql,
  PINNED_YOUNG_GENERATION,
  runCli,
  type ServerProcess,
  startServerProcess,
} from "../helpers/server-process.js";

const MiB = 1024 * 1024;
const UPLOADS = 20;
const GROWTH_LIMIT_MB = 64;

/**
 * A process's memory from /proc (Linux): `anonymous` is what it holds (heap, buffers, malloc:
 * RssAnon), `resident` all of VmRSS, which also counts file pages it has mapped — libvips maps
 * the photo it decodes from its temp file, clean page cache the kernel can drop at any time.
 */
function memoryOf(pid: number): { anonymous: number; resident: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
  return { anonymous: kb("RssAnon"), resident: kb("VmRSS") };
}

/** SOI, a comment naming upload `n`, then the rest of `file` (a JPEG) streamed from disk. */
function variant(
  file: string,
  n: number,
): { stream: () => Readable; size: number; sha256: () => Promise<string> } {
  const soi = Buffer.from([0xff, 0xd8]);
  const comment = jpegCommentSegment(`propvid upload ${n}`);
  const size = 2 + comment.length + (statSync(file).size - 2);
  const stream = () =>
    Readable.from(
      (async function* () {
        yield soi;
        yield comment;
        for await (const chunk of createReadStream(file, { start: 2, highWaterMark: MiB }))
          yield chunk as Buffer;
      })(),
    );
  const sha256 = async () => {
    const hash = createHash("sha256");
    for await (const chunk of stream()) hash.update(chunk as Buffer);
    return hash.digest("hex");
  };
  return { stream, size, sha256 };
}

async function put(url: string, body: Readable, size: number): Promise<{ status: number; body: string }> {
  const request = http.request(url, { method: "PUT", headers: { "content-length": String(size) } });
  const responded = once(request, "response") as Promise<[http.IncomingMessage]>;
  await pipeline(body, request);
  const [response] = await responded;
  let text = "";
  for await (const chunk of response) text += chunk;
  return { status: response.statusCode ?? 0, body: text };
}

describe("20 concurrent 45 MB uploads against the real server (ABUSE 41)", () => {
  let database: TestDatabase;
  let server: ServerProcess;
  let dir: string;
  let key: string;
  let campaignId: string;
  let photo: string;

  before(async () => {
    database = await createTestDatabase();
    dir = mkdtempSync(path.join(os.tmpdir(), "propvid-upload-memory-"));
    photo = path.join(dir, "large.jpg");
    const jpeg = await largeCameraJpeg();
    writeFileSync(photo, jpeg);
    assert.ok(jpeg.length > 40 * MiB && jpeg.length < 50 * MiB, `photo is ${jpeg.length} bytes`);
    const env = childEnv({
      DATABASE_URL: database.url,
      PROPVID_DATA_DIR: path.join(dir, "data"),
      PROPVID_ROLE: "api",
      UPLOAD_CONCURRENCY: String(UPLOADS + 4),
      UPLOAD_CONCURRENCY_PER_KEY: String(UPLOADS),
    });
    // what it retains, not the young generation's size
    server = await startServerProcess(env, [], 60_000, PINNED_YOUNG_GENERATION);
    key = (await runCli(["keys", "create", "--tenant", "memory"], env)).stdout.trim();
    const created = await gql<{ createCampaign: { id: string } }>(
      server.url,
      key,
      `mutation { createCampaign(input: { name: "large photos" }) { id } }`,
    );
    campaignId = created.body.data!.createCampaign.id;
  });
  after(async () => {
    await server?.stop();
    await database?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function createUpload(n: number, size: number): Promise<{ uploadUrl: string; assetId: string }> {
    const created = await gql<{ createAssetUpload: { uploadUrl: string; asset: { id: string } } }>(
      server.url,
      key,
      `mutation($input: CreateAssetUploadInput!) { createAssetUpload(input: $input) { uploadUrl asset { id } } }`,
      { input: { campaignId, filename: `large-${n}.jpg`, contentType: "image/jpeg", byteSize: size } },
    );
    assert.equal(created.body.errors, undefined, JSON.stringify(created.body.errors));
    return {
      uploadUrl: created.body.data!.createAssetUpload.uploadUrl,
      assetId: created.body.data!.createAssetUpload.asset.id,
    };
  }

  it("keeps the server's memory within 64 MB of growth, decoding in its analysis process, and stores every photo intact", async () => {
    const pid = server.child.pid!;
    // One upload first: the decoder, the pools and the code paths warm up outside the measure
    // (and the analysis process starts).
    const warm = variant(photo, 0);
    const warmUpload = await createUpload(0, warm.size);
    const warmed = await put(warmUpload.uploadUrl, warm.stream(), warm.size);
    assert.equal(warmed.status, 200, warmed.body);
    const analyser = analysisProcessOf(pid);
    assert.ok(analyser, "the server decodes in its image analysis process");

    const variants = Array.from({ length: UPLOADS }, (_, i) => variant(photo, i + 1));
    const uploads = await Promise.all(variants.map((v, i) => createUpload(i + 1, v.size)));
    const baseline = memoryOf(pid);
    const peak = { ...baseline };
    const analyserBaseline = memoryOf(analyser);
    let analyserPeak = analyserBaseline.resident;
    let bothPeak = baseline.resident + analyserBaseline.resident;
    const sampler = setInterval(() => {
      const now = memoryOf(pid);
      peak.anonymous = Math.max(peak.anonymous, now.anonymous);
      peak.resident = Math.max(peak.resident, now.resident);
      const decoding = memoryOf(analyser).resident;
      analyserPeak = Math.max(analyserPeak, decoding);
      bothPeak = Math.max(bothPeak, now.resident + decoding);
    }, 20);
    let results: { status: number; body: string }[];
    try {
      results = await Promise.all(
        uploads.map((upload, i) => put(upload.uploadUrl, variants[i]!.stream(), variants[i]!.size)),
      );
    } finally {
      clearInterval(sampler);
    }
    for (const [i, result] of results.entries()) {
      assert.equal(result.status, 200, `upload ${i + 1}: ${result.body}`);
      assert.equal((JSON.parse(result.body) as { asset: { status: string } }).asset.status, "READY");
    }
    const growth = (peak.anonymous - baseline.anonymous) / MiB;
    const residentGrowth = (peak.resident - baseline.resident) / MiB;
    const analyserGrowth = (analyserPeak - analyserBaseline.resident) / MiB;
    const bothGrowth = (bothPeak - baseline.resident - analyserBaseline.resident) / MiB;
    process.stdout.write(
      `# ${UPLOADS} × ${(variants[0]!.size / MiB).toFixed(1)} MB at once on Node ${process.versions.node}: ` +
        `server VmRSS growth ${residentGrowth.toFixed(1)} MB (held: heap, buffers, malloc ${growth.toFixed(1)} MB, ` +
        `${(baseline.anonymous / MiB).toFixed(0)} → ${(peak.anonymous / MiB).toFixed(0)} MB); ` +
        `analysis process VmRSS growth ${analyserGrowth.toFixed(1)} MB (one photo decoded at a time, mapped from its temp file); ` +
        `both together ${bothGrowth.toFixed(1)} MB\n`,
    );
    assert.ok(
      residentGrowth <= GROWTH_LIMIT_MB,
      `the server's VmRSS grew by ${residentGrowth.toFixed(1)} MB`,
    );
    assert.ok(growth <= GROWTH_LIMIT_MB, `the server's memory grew by ${growth.toFixed(1)} MB`);
    // One decode at a time: one photo's file and its decode buffers, whatever the number of uploads.
    const photoMb = variants[0]!.size / MiB;
    assert.ok(
      analyserGrowth <= photoMb + GROWTH_LIMIT_MB,
      `the analysis process grew by ${analyserGrowth.toFixed(1)} MB (one ${photoMb.toFixed(0)} MB photo at a time)`,
    );
    // A second after the uploads answered, no decoded photo is still mapped: libvips's operation
    // cache, switched back on by a media thread loading sharp, held the last decodes' temp files
    // (deleted, yet resident: 255–262 MB of VmRSS here before src/media/sharp.ts).
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const settledGrowth = (memoryOf(analyser).resident - analyserBaseline.resident) / MiB;
    process.stdout.write(
      `# the analysis process's VmRSS growth a second after the uploads had answered: ${settledGrowth.toFixed(1)} MB\n`,
    );
    assert.ok(settledGrowth <= GROWTH_LIMIT_MB, `its VmRSS stayed ${settledGrowth.toFixed(1)} MB higher`);
    assert.equal(mapsFile(analyser, "propvid-ingest"), false, "no temp photo still mapped");
    assert.equal(mapsFile(pid, "propvid-ingest"), false, "the server never maps a photo");

    // Every stored original hashes to what was sent.
    for (const [i, upload] of uploads.entries()) {
      const asset = await gql<{ asset: { url: string; byteSize: number } }>(
        server.url,
        key,
        "query($id: ID!) { asset(id: $id) { url byteSize } }",
        { id: upload.assetId },
      );
      const { url, byteSize } = asset.body.data!.asset;
      assert.equal(byteSize, variants[i]!.size);
      const response = await fetch(url);
      assert.equal(response.status, 200);
      const hash = createHash("sha256");
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) hash.update(chunk);
      assert.equal(hash.digest("hex"), await variants[i]!.sha256(), `upload ${i + 1} came back different`);
    }
  });

  it("rejects only the photo whose decoder was killed mid-decode, and decodes the next in a new process", async () => {
    const pid = server.child.pid!;
    const first = analysisProcessOf(pid)!;
    const doomed = variant(photo, 100);
    const upload = await createUpload(100, doomed.size);
    const answered = put(upload.uploadUrl, doomed.stream(), doomed.size);
    await until(
      "the photo to reach the decoder",
      () => mapsFile(first, "propvid-ingest") || undefined,
      60_000,
      5,
    );
    process.kill(first, "SIGKILL");
    const result = await answered;
    assert.equal(result.status, 422, result.body);
    const { error, asset } = JSON.parse(result.body) as {
      error: { code: string };
      asset: { status: string; rejectionReason: string };
    };
    assert.equal(error.code, "MEDIA_REJECTED");
    assert.deepEqual(
      [asset.status, asset.rejectionReason],
      ["REJECTED", "The image decoder failed on this image"],
    );

    // The server lives on; the next photo is decoded by a new analysis process.
    const next = variant(photo, 101);
    const nextUpload = await createUpload(101, next.size);
    const stored = await put(nextUpload.uploadUrl, next.stream(), next.size);
    assert.equal(stored.status, 200, stored.body);
    assert.equal((JSON.parse(stored.body) as { asset: { status: string } }).asset.status, "READY");
    const second = analysisProcessOf(pid);
    assert.ok(second && second !== first);
  });
});
