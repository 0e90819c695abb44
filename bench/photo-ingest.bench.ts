/**
 * `npm run bench -- photo-ingest`: what decoding uploads in the image analysis process
 * (src/media/analysis-process.ts) costs and gives, against decoding them in the API process —
 * the same app (`--role api`, real routes, store and PostgreSQL), started once each way, in turns.
 * Each run uploads the 30 keeper fixture photos one after another by signed URL, then a 45 MB
 * camera-size JPEG three times, while a probe client asks `{ viewer }` every 25 ms. Figures: the
 * PUT's latency (stream, decode, thumbnail, READY), the probe's p99, and this process's CPU per
 * photo. The probe and the uploads run in this process beside the app, so its CPU figure counts
 * the client too (alike on both sides); its memory would count the client's 45 MB buffers, so the
 * server's memory is measured where the server runs alone (test/e2e/upload-memory.test.ts).
 */
import { readFile } from "node:fs/promises";
import { fixturePhoto, fixturePhotoNames, isKeeper } from "../test/helpers/fixtures.js";
import { jpegCommentSegment, largeCameraJpeg } from "../test/helpers/large-photo.js";
import { withBenchApp } from "./bench-app.js";
import { formatLatency, type Latency, latency } from "./bench-server.js";
import type { Benchmark } from "./benchmarks.js";

const PROBE_EVERY_MS = 25;
const LARGE_UPLOADS = 3;
const MiB = 1024 * 1024;

type Mode = "here" | "process";

interface Round {
  mode: Mode;
  fixtures: Latency;
  large: Latency;
  probe: Latency;
  cpuMsPerPhoto: number;
}

async function round(mode: Mode, photos: { name: string; bytes: Buffer }[], large: Buffer): Promise<Round> {
  return await withBenchApp(
    "photo-ingest",
    {
      role: "api",
      analysis: mode,
      env: { RATE_LIMIT_PER_MINUTE: "0", GRAPHQL_COST_PER_MINUTE: "0", PATH: process.env.PATH ?? "" },
    },
    async (app) => {
      const { key } = await app.services.tenants.createKeyForTenant("bench", "bench key", ["admin"]);
      const graphql = async <T>(query: string, variables?: Record<string, unknown>): Promise<T> => {
        const response = await fetch(`${app.address}/graphql`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-api-key": key },
          body: JSON.stringify({ query, variables }),
        });
        const body = (await response.json()) as { data?: T; errors?: unknown };
        if (response.status !== 200 || body.errors) throw new Error(JSON.stringify(body));
        return body.data!;
      };
      const { createCampaign } = await graphql<{ createCampaign: { id: string } }>(
        'mutation { createCampaign(input: { name: "Bench house" }) { id } }',
      );
      const upload = async (filename: string, bytes: Buffer): Promise<number> => {
        const { createAssetUpload } = await graphql<{ createAssetUpload: { uploadUrl: string } }>(
          `mutation($input: CreateAssetUploadInput!) { createAssetUpload(input: $input) { uploadUrl } }`,
          {
            input: {
              campaignId: createCampaign.id,
              filename,
              contentType: "image/jpeg",
              byteSize: bytes.length,
            },
          },
        );
        const started = performance.now();
        const response = await fetch(createAssetUpload.uploadUrl, { method: "PUT", body: bytes });
        const body = (await response.json()) as { asset?: { status: string } };
        const ms = performance.now() - started;
        if (response.status !== 200 || body.asset?.status !== "READY") {
          throw new Error(`${filename}: ${response.status} ${JSON.stringify(body)}`);
        }
        return ms;
      };
      // Warm-up (and, for `process`, the analysis process's start): outside the figures.
      await upload("warm-up.jpg", photos[0]!.bytes);

      const probes: number[] = [];
      let probing = true;
      const probe = (async () => {
        while (probing) {
          const started = performance.now();
          await graphql("{ viewer { tenant { name } } }");
          probes.push(performance.now() - started);
          await new Promise((resolve) => setTimeout(resolve, PROBE_EVERY_MS));
        }
      })();
      const cpuBefore = process.cpuUsage();
      const fixtures: number[] = [];
      const largeTimes: number[] = [];
      try {
        for (const photo of photos) fixtures.push(await upload(photo.name, photo.bytes));
        for (let i = 0; i < LARGE_UPLOADS; i++)
          largeTimes.push(await upload(`large-${i}.jpg`, withComment(large, i)));
      } finally {
        probing = false;
        await probe;
      }
      const cpu = process.cpuUsage(cpuBefore);
      return {
        mode,
        fixtures: latency(fixtures),
        large: latency(largeTimes),
        probe: latency(probes),
        cpuMsPerPhoto: (cpu.user + cpu.system) / 1000 / (photos.length + LARGE_UPLOADS),
      };
    },
  );
}

/** The same picture with a different comment: other bytes (no deduplication), same decode. */
function withComment(jpeg: Buffer, n: number): Buffer {
  return Buffer.concat([jpeg.subarray(0, 2), jpegCommentSegment(`propvid bench ${n}`), jpeg.subarray(2)]);
}

async function run(): Promise<string[]> {
  const photos = await Promise.all(
    fixturePhotoNames()
      .filter(isKeeper)
      .map(async (name) => ({ name, bytes: await readFile(fixturePhoto(name)) })),
  );
  const large = await largeCameraJpeg();
  // In turns, twice each: a drift of the machine touches both sides.
  const rounds: Round[] = [];
  for (const mode of ["here", "process", "here", "process"] as const)
    rounds.push(await round(mode, photos, large));
  const lines: string[] = [];
  for (const r of rounds) {
    lines.push(
      `${r.mode === "here" ? "decoded in the API process  " : "decoded in the analysis proc."}: ` +
        `${photos.length} fixture photos PUT ${formatLatency(r.fixtures)}; ` +
        `${LARGE_UPLOADS} × ${(large.length / MiB).toFixed(1)} MB PUT p50 ${r.large.p50.toFixed(0)} ms; ` +
        `probe { viewer } ${formatLatency(r.probe)}; CPU of the API's process (and the client) ${r.cpuMsPerPhoto.toFixed(0)} ms/photo`,
    );
  }
  const median = (mode: Mode, pick: (r: Round) => number) => {
    const values = rounds
      .filter((r) => r.mode === mode)
      .map(pick)
      .sort((a, b) => a - b);
    return (values[0]! + values.at(-1)!) / 2;
  };
  const ratio = (pick: (r: Round) => number) => (median("process", pick) / median("here", pick)).toFixed(2);
  lines.push(
    `analysis process ÷ API process (mean of the two rounds each): fixture PUT p50 ${ratio((r) => r.fixtures.p50)}×, ` +
      `p99 ${ratio((r) => r.fixtures.p99)}×; 45 MB PUT p50 ${ratio((r) => r.large.p50)}×; ` +
      `probe p99 ${ratio((r) => r.probe.p99)}×; CPU per photo in the API's process ${ratio((r) => r.cpuMsPerPhoto)}×`,
  );
  return lines;
}

export const photoIngestBenchmark: Benchmark = {
  name: "photo-ingest",
  description:
    "uploads decoded in the image analysis process vs in the API process (PUT latency, a probe query, CPU)",
  run,
};
