/**
 * `npm run bench -- load`, the media part: one large photo stored through the real signed upload
 * (`createAssetUpload` + `PUT`) into the real store, then closed-loop clients GETting random 1 MiB
 * `Range`s of its signed `/v1/media/:id?token=…` URL. Fixture photos are at most 1.5 MB, which
 * leaves no room for random 1 MiB ranges, so the photo is a 5000×3750 JPEG of noise (noise does
 * not compress: about 20 MB). Baseline, same run: the same ranges of the same bytes from a file,
 * served by a bare node:http server inside the bench process (no auth, no database, no Fastify).
 * An error is anything but a 206 whose body is exactly the requested 1 MiB of the photo.
 */
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { contentRangeHeader, parseRange } from "../src/http/range.js";
import { type BenchServer, closedLoop, formatLatency, latency, rssMiB } from "./bench-server.js";

const RANGE_BYTES = 1024 * 1024;
const WIDTH = 5000;
const HEIGHT = 3750;

async function noisePhoto(): Promise<Buffer> {
  return await sharp(randomBytes(WIDTH * HEIGHT * 3), { raw: { width: WIDTH, height: HEIGHT, channels: 3 } })
    .jpeg({ quality: 95 })
    .toBuffer();
}

/** Stores the photo through the signed upload route; returns its signed media URL. */
async function uploadPhoto(server: BenchServer, photo: Buffer): Promise<string> {
  const { createAssetUpload } = await server.query<{
    createAssetUpload: { uploadUrl: string; asset: { id: string } };
  }>(
    "mutation($input: CreateAssetUploadInput!) { createAssetUpload(input: $input) { uploadUrl asset { id } } }",
    {
      input: {
        campaignId: server.campaignId,
        filename: "noise.jpg",
        contentType: "image/jpeg",
        byteSize: photo.length,
      },
    },
  );
  const put = await fetch(createAssetUpload.uploadUrl, { method: "PUT", body: photo });
  if (put.status !== 200) throw new Error(`upload: ${put.status} ${await put.text()}`);
  const { asset } = await server.query<{ asset: { status: string; url: string | null } }>(
    "query($id: ID!) { asset(id: $id) { status url } }",
    { id: createAssetUpload.asset.id },
  );
  if (asset.status !== "READY" || !asset.url) throw new Error(`photo is ${asset.status}`);
  return asset.url;
}

/** The baseline: single byte ranges of one file, nothing else. */
async function startBaseline(
  filePath: string,
  size: number,
): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const range = parseRange(req.headers.range, size);
    if (range.kind !== "single") {
      res.writeHead(416).end();
      return;
    }
    res.writeHead(206, {
      "content-type": "image/jpeg",
      "content-length": range.end - range.start + 1,
      "content-range": contentRangeHeader(range.start, range.end, size),
    });
    createReadStream(filePath, { start: range.start, end: range.end }).pipe(res);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/noise.jpg`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // the clients' idle keep-alive sockets
      }),
  };
}

async function ranges(url: string, photo: Buffer, clients: number, seconds: number) {
  const { samples, errors } = await closedLoop(clients, seconds, async () => {
    const start = Math.floor(Math.random() * (photo.length - RANGE_BYTES + 1));
    const response = await fetch(url, { headers: { range: `bytes=${start}-${start + RANGE_BYTES - 1}` } });
    const body = Buffer.from(await response.arrayBuffer());
    return response.status === 206 && body.equals(photo.subarray(start, start + RANGE_BYTES));
  });
  return { perSecond: samples.length / seconds, latency: latency(samples), errors };
}

/** Lines for the media part, run against `server` (already started). */
export async function mediaRangesLoad(
  server: BenchServer,
  clients: number,
  seconds: number,
): Promise<string[]> {
  const photo = await noisePhoto();
  const mediaUrl = await uploadPhoto(server, photo);
  const scratch = mkdtempSync(path.join(os.tmpdir(), "propvid-load-media-"));
  const filePath = path.join(scratch, "noise.jpg");
  writeFileSync(filePath, photo);
  const baseline = await startBaseline(filePath, photo.length);
  try {
    const pid = server.process.child.pid;
    const lines = [
      `media 1 MiB ranges of a ${(photo.length / RANGE_BYTES).toFixed(1)} MiB photo (signed upload), ${clients} clients, ${seconds} s each:`,
    ];
    const local = await ranges(baseline.url, photo, clients, seconds);
    lines.push(
      `  baseline (bare node:http + file, in the bench process): ${local.perSecond.toFixed(0)} req/s, ${formatLatency(local.latency)}, errors ${local.errors}`,
    );
    const rssBefore = await rssMiB(pid);
    const served = await ranges(mediaUrl, photo, clients, seconds);
    lines.push(
      `  GET /v1/media/:id?token=… : ${served.perSecond.toFixed(0)} req/s, ${formatLatency(served.latency)}, errors ${served.errors}`,
      `  vs baseline: ${(served.perSecond / local.perSecond).toFixed(2)}× req/s, p50 ${(served.latency.p50 / local.latency.p50).toFixed(2)}×, p99 ${(served.latency.p99 / local.latency.p99).toFixed(2)}×`,
      `  server RSS before/after: ${rssBefore.toFixed(0)} / ${(await rssMiB(pid)).toFixed(0)} MiB`,
    );
    return lines;
  } finally {
    await baseline.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}
