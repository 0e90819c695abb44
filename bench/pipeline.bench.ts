/**
 * Pipeline benchmarks (issue: the video pipeline):
 * - end to end with the embedded providers, 7 scenes: wall time vs the video's own 28 s, per stage;
 * - orchestration overhead with a provider that takes exactly 3 s per scene (all in parallel);
 * - concat by stream copy vs re-encode of the same clips.
 */

import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Services } from "../src/container.js";
import { startEmbeddedPostgres } from "../src/db/embedded-postgres.js";
import { SceneEntity, VideoJobEntity } from "../src/db/entities/index.js";
import { isTerminalJobStatus } from "../src/db/entities/video-job.entity.js";
import { silentLogger } from "../src/logger.js";
import { runFfmpeg } from "../src/media/ffmpeg.runner.js";
import { concatCopyArgs, concatListContent, concatReencodeArgs } from "../src/media/ffmpeg-commands.js";
import { embeddedProviders } from "../src/providers/registry.js";
import { fixedTimeVideo } from "../test/helpers/fixed-time-providers.js";
import { SEVEN_SCENE_PHOTOS } from "../test/helpers/pipeline.js";
import { startBenchApp } from "./bench-app.js";
import type { Benchmark } from "./benchmarks.js";

const PHOTOS = SEVEN_SCENE_PHOTOS;
const FIXTURES = path.resolve(import.meta.dirname, "../../../shared/fixtures/photos");

interface Harness {
  services: Services;
  tenantId: string;
  campaignId: string;
  close(): Promise<void>;
}

async function harness(
  scratch: string,
  renderConcurrency: number,
  readyClip: () => string,
): Promise<Harness> {
  const server = await startEmbeddedPostgres({
    dataDir: path.join(scratch, `postgres-${renderConcurrency}`),
    logger: silentLogger,
    settings: { fsync: "off", synchronous_commit: "off" },
  });
  const app = await startBenchApp({
    databaseUrl: server.url,
    role: "worker",
    env: { RENDER_CONCURRENCY: String(renderConcurrency), PATH: process.env.PATH ?? "" },
    poolSize: 10,
    providers: ({ ffmpeg, workers }) =>
      embeddedProviders({ ffmpeg: ffmpeg.ffmpeg, workers }).addVideo(
        fixedTimeVideo({ name: "bench:fixed-3s", seconds: 3, clip: async () => readyClip() }),
      ),
  }).catch(async (error: unknown) => {
    await server.stop();
    throw error;
  });
  const { services } = app;
  const tenant = await services.tenants.ensure("bench");
  const campaign = await services.campaigns.create(tenant.id, { name: "bench house" });
  for (const name of PHOTOS) {
    await services.ingest.ingestNew(tenant.id, campaign.id, name, await readFile(path.join(FIXTURES, name)));
  }
  return {
    services,
    tenantId: tenant.id,
    campaignId: campaign.id,
    async close() {
      await app.stop({ graceful: false });
      await server.stop();
    },
  };
}

async function runJob(h: Harness, input: { videoProvider?: string }): Promise<VideoJobEntity> {
  const job = await h.services.pipeline.create(h.tenantId, {
    campaignId: h.campaignId,
    sceneCount: 7,
    ...input,
  });
  for (;;) {
    const row = await h.services.dataSource.getRepository(VideoJobEntity).findOneByOrFail({ id: job.id });
    if (isTerminalJobStatus(row.status)) {
      if (row.status !== "SUCCEEDED") throw new Error(`job ended ${row.status}: ${row.error}`);
      return row;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Per-stage timings from the job's own event log. */
async function stages(h: Harness, jobId: string): Promise<Record<string, number>> {
  const events: { type: string; payload: Record<string, unknown>; created_at: Date }[] =
    await h.services.dataSource.query(
      "SELECT type, payload, created_at FROM job_event WHERE job_id = $1 ORDER BY sequence",
      [jobId],
    );
  const at = (predicate: (event: (typeof events)[number]) => boolean) =>
    events.find(predicate)?.created_at.getTime() ?? Number.NaN;
  const created = at((event) => event.type === "CREATED");
  const rendering = at((event) => event.payload.status === "RENDERING");
  const scoreDone = at((event) => event.payload.scoreStatus === "SUCCEEDED");
  const assembling = at((event) => event.payload.status === "ASSEMBLING");
  const completed = at((event) => event.type === "COMPLETED");
  return {
    "queue+plan": (rendering - created) / 1000,
    "scenes (parallel)": (assembling - rendering) / 1000,
    "score (beside the scenes)": (scoreDone - rendering) / 1000,
    assembly: (completed - assembling) / 1000,
    total: (completed - created) / 1000,
  };
}

async function run(): Promise<string[]> {
  const lines: string[] = [];
  const scratch = mkdtempSync(path.join(os.tmpdir(), "propvid-pipeline-bench-"));
  chmodSync(scratch, 0o755);
  let clipPath = "";
  try {
    // 1. End to end, embedded providers, default concurrency (the number of cores).
    const h = await harness(scratch, os.availableParallelism(), () => clipPath);
    try {
      const job = await runJob(h, {});
      const split = await stages(h, job.id);
      lines.push(
        `end to end, 7 scenes, ${os.availableParallelism()} cores: ${split.total!.toFixed(1)} s for a ${job.durationSeconds} s video ` +
          `(${(split.total! / (job.durationSeconds ?? 28)).toFixed(2)}× real time; goal ≤ 45 s) ${split.total! <= 45 ? "OK" : "NOT MET"}`,
      );
      lines.push(
        `  stages: ${Object.entries(split)
          .map(([name, seconds]) => `${name} ${seconds.toFixed(1)} s`)
          .join(", ")}`,
      );

      // Keep the clips for the concat comparison and the fixed-time provider.
      const scenes = await h.services.dataSource
        .getRepository(SceneEntity)
        .find({ where: { jobId: job.id }, order: { index: "ASC" } });
      const clips: string[] = [];
      for (const scene of scenes) {
        const file = path.join(scratch, `clip-${scene.index}.mp4`);
        await h.services.media.toFile((await h.services.media.byId(h.tenantId, scene.clipMediaId!))!, file);
        clips.push(file);
      }
      clipPath = clips[0]!;

      // 3. Concat: stream copy vs re-encode of the same 7 clips.
      const list = path.join(scratch, "list.ffconcat");
      writeFileSync(list, concatListContent(clips));
      const ffmpeg = h.services.ffmpeg.ffmpeg;
      const copy = await runFfmpeg(ffmpeg, concatCopyArgs(list, path.join(scratch, "copy.mp4")), {
        timeoutMs: 120_000,
      });
      const reencode = await runFfmpeg(ffmpeg, concatReencodeArgs(list, path.join(scratch, "reencode.mp4")), {
        timeoutMs: 600_000,
      });
      const ratio = reencode.elapsedMs / copy.elapsedMs;
      lines.push(
        `concat 7 clips: stream copy ${(copy.elapsedMs / 1000).toFixed(2)} s, re-encode ${(reencode.elapsedMs / 1000).toFixed(2)} s, ` +
          `ratio ${ratio.toFixed(1)}× (expect ≥ 20×) ${ratio >= 20 ? "OK" : "NOT MET"}`,
      );
    } finally {
      await h.close();
    }

    // 2. Orchestration overhead: a provider that takes exactly 3 s per scene, all scenes at once.
    const fixed = await harness(scratch, 8, () => clipPath);
    try {
      const job = await runJob(fixed, { videoProvider: "bench:fixed-3s" });
      const split = await stages(fixed, job.id);
      const scenes = await fixed.services.dataSource
        .getRepository(SceneEntity)
        .find({ where: { jobId: job.id } });
      const starts = scenes.map((scene) => scene.startedAt!.getTime());
      const spread = (Math.max(...starts) - Math.min(...starts)) / 1000;
      const overhead = split.total! - 3;
      lines.push(
        `orchestration, 7 scenes × 3 s provider: job ${split.total!.toFixed(2)} s, overhead ${overhead.toFixed(2)} s ` +
          `(goal ≤ 3 s, assembly included) ${overhead <= 3 ? "OK" : "NOT MET"}`,
      );
      lines.push(
        `  scenes started within ${spread.toFixed(2)} s of each other (parallel); stages: ` +
          Object.entries(split)
            .map(([name, seconds]) => `${name} ${seconds.toFixed(2)} s`)
            .join(", "),
      );
    } finally {
      await fixed.close();
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return lines;
}

export const pipelineBenchmark: Benchmark = {
  name: "pipeline",
  description: "video pipeline: end to end, orchestration overhead, concat copy vs re-encode",
  run,
};
