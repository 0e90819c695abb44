import { createWriteStream, readdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { pipeline as pipe } from "node:stream/promises";
import { startApp } from "./app.js";
import type { Config } from "./config.js";
import { SceneEntity, VideoJobEntity } from "./db/entities/index.js";
import { isTerminalJobStatus } from "./db/entities/video-job.entity.js";
import type { AspectRatio, MusicMood } from "./domain/vocabulary.js";
import { AppError, isAppError } from "./errors.js";
import type { Logger } from "./logger.js";

export interface RenderOptions {
  photosDir: string;
  output: string;
  sceneCount: number;
  mood: MusicMood;
  aspectRatio: AspectRatio;
}

const PHOTO_EXTENSIONS = /\.(jpe?g|png|webp|avif|heic|heif)$/i;

/**
 * `propvid render`: a folder of photos in, an MP4 out, through the same job path as the service
 * (uploads, analysis, pg-boss pipeline) on the embedded database, with per-scene progress bars.
 */
export async function renderCommand(config: Config, logger: Logger, options: RenderOptions): Promise<string> {
  const files = readdirSync(options.photosDir)
    .filter((name) => PHOTO_EXTENSIONS.test(name))
    .sort();
  if (files.length === 0) throw new AppError("BAD_USER_INPUT", `no photos in ${options.photosDir}`);

  // A worker without a port: the job runs through the same queues and handlers as in the service.
  const app = await startApp({ config, logger, role: "worker", poolSize: 10 });
  try {
    const { services } = app;
    const tenant = await services.tenants.ensure("cli");
    const campaign = await services.campaigns.create(tenant.id, {
      name: path.basename(path.resolve(options.photosDir)),
    });
    process.stderr.write(`analysing ${files.length} photos…\n`);
    let ready = 0;
    for (const name of files) {
      try {
        const asset = await services.ingest.ingestNew(
          tenant.id,
          campaign.id,
          name,
          await readFile(path.join(options.photosDir, name)),
        );
        if (asset.status === "READY") ready++;
        else process.stderr.write(`  ${name}: ${asset.rejectionReason}\n`);
      } catch (error) {
        if (!isAppError(error)) throw error;
        process.stderr.write(`  ${name}: ${error.message}\n`);
      }
    }
    if (ready === 0) throw new AppError("BAD_USER_INPUT", "none of the photos could be used");

    const started = Date.now();
    const job = await services.pipeline.create(tenant.id, {
      campaignId: campaign.id,
      sceneCount: options.sceneCount,
      mood: options.mood,
      aspectRatio: options.aspectRatio,
    });
    const done = await followJob(services.dataSource, job.id);
    if (done.status !== "SUCCEEDED" || !done.videoMediaId) {
      throw new AppError(
        "PROVIDER_FAILED",
        `the video job ended ${done.status}: ${done.error ?? "no reason given"}`,
      );
    }
    const video = await services.media.byId(tenant.id, done.videoMediaId);
    await pipe(services.media.openRange(video!), createWriteStream(options.output));
    process.stderr.write(
      `done in ${((Date.now() - started) / 1000).toFixed(1)} s: ${done.durationSeconds?.toFixed(1)} s video\n`,
    );
    return path.resolve(options.output);
  } finally {
    await app.stop({ graceful: false });
  }
}

/** Polls the job and draws one progress bar per scene (redrawn in place on a terminal). */
async function followJob(dataSource: import("typeorm").DataSource, jobId: string): Promise<VideoJobEntity> {
  const tty = process.stderr.isTTY;
  let lastText = "";
  for (;;) {
    const job = await dataSource.getRepository(VideoJobEntity).findOneByOrFail({ id: jobId });
    const scenes = await dataSource
      .getRepository(SceneEntity)
      .find({ where: { jobId }, order: { index: "ASC" } });
    const bar = (fraction: number) => {
      const filled = Math.round(fraction * 20);
      return `[${"#".repeat(filled)}${".".repeat(20 - filled)}] ${String(Math.round(fraction * 100)).padStart(3)}%`;
    };
    const lines = [
      `job ${job.status.toLowerCase()} (${job.stage ?? ""})`,
      ...scenes.map(
        (scene) =>
          `  scene ${scene.index + 1} ${scene.sceneType.padEnd(9)} ${bar(scene.progress)} ${scene.status.toLowerCase()}`,
      ),
      `  music            ${bar(job.scoreProgress)} ${job.scoreStatus.toLowerCase()}`,
    ];
    const text = lines.join("\n");
    if (text !== lastText) {
      if (tty && lastText) process.stderr.write(`\x1b[${lastText.split("\n").length}A\x1b[0J`);
      process.stderr.write(`${text}\n`);
      lastText = text;
    }
    if (isTerminalJobStatus(job.status)) return job;
    await new Promise((resolve) => setTimeout(resolve, tty ? 250 : 1000));
  }
}
