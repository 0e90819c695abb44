import { createReadStream } from "node:fs";
import path from "node:path";
import type { VideoJobEntity } from "../db/entities/index.js";
import type { MusicMood, SceneType } from "../domain/vocabulary.js";
import { masterScore } from "../media/assembly.js";
import { withTempDir } from "../media/ffmpeg.runner.js";
import { planScenes } from "../providers/local/scene-plan.js";
import { outroSecondsOf, videoSecondsOf } from "./listing-overlays.js";
import type { PipelineDeps } from "./pipeline-deps.js";
import type { JobHandler } from "./worker.js";

/** What the score reports for an error that is not one of ours. */
const SCORE_FAILED = { code: "PROVIDER_FAILED", message: "The score could not be composed" } as const;
const SAMPLE_RATE = 48_000;
const MAX_SCORE_BYTES = 256 * 1024 * 1024;
const FADE_IN_SECONDS = 0.5;
const FADE_OUT_SECONDS = 1.5;
/** Share of the score's progress bar spent composing; mastering takes the rest. */
const COMPOSE_SHARE = 0.7;

export type ComposeScoreDeps = Pick<
  PipelineDeps,
  "jobs" | "parts" | "cancellations" | "providers" | "media" | "ffmpeg" | "logger"
>;

/**
 * video.score: composes the whole soundtrack while the scenes render (not after them), one
 * segment per scene, masters it (exact length, fades, −16 LUFS, AAC) and stores the master.
 * Assembly waits for it like for any scene, then only has to copy it into the video.
 */
export const composeScoreJob =
  (deps: ComposeScoreDeps): JobHandler<"video.score"> =>
  async ({ jobId }, run) => {
    const job = await deps.jobs.load(jobId);
    if (!job || !(await deps.parts.claimScore(jobId))) return;
    run.onFailure((failure) => deps.parts.scoreFailed(jobId, failure), SCORE_FAILED);
    const report = run.watch(jobId, deps.cancellations, (f) => deps.parts.reportScoreProgress(jobId, f));
    const score = await composeAndMaster(deps, job, { signal: run.signal, onProgress: report });
    await deps.parts.scoreSucceeded(jobId, score);
  };

/** The provider composes the score; it is mastered to the house loudness and stored. */
async function composeAndMaster(
  deps: ComposeScoreDeps,
  job: VideoJobEntity,
  control: { signal: AbortSignal; onProgress: (fraction: number) => void },
): Promise<{ mediaId: string; costUsd: number }> {
  const { options } = job;
  const log = deps.logger.child({ jobId: job.id, tenantId: job.tenantId, part: "score" });
  const scenes = await deps.jobs.scenes(job.id);
  const sceneTypes: SceneType[] = scenes.length
    ? scenes.map((scene) => scene.sceneType as SceneType)
    : planScenes(options.sceneCount);
  return await withTempDir(`propvid-score-${job.id.slice(0, 8)}-`, async (dir) => {
    const scoreWav = path.join(dir, "score.wav");
    const started = Date.now();
    const composed = await deps.providers.music(options.musicProvider).compose({
      mood: options.mood as MusicMood,
      // the outro card plays over the last scene's music: the score covers the whole video
      segments: sceneTypes.map((sceneType, index) => ({
        sceneType,
        seconds: options.secondsPerScene + (index === sceneTypes.length - 1 ? outroSecondsOf(options) : 0),
      })),
      sampleRate: SAMPLE_RATE,
      outFile: scoreWav,
      workDir: dir,
      onProgress: (fraction) => control.onProgress(fraction * COMPOSE_SHARE),
      signal: control.signal,
    });
    const costUsd = composed.costUsd ?? 0;
    log.info({ ms: Date.now() - started, costUsd }, "score composed");
    const mastering = Date.now();
    const outFile = path.join(dir, "score.m4a");
    const mastered = await masterScore({
      ffmpeg: deps.ffmpeg.ffmpeg,
      ffprobe: deps.ffmpeg.ffprobe,
      scoreWav,
      durationSeconds: videoSecondsOf(options),
      fadeIn: FADE_IN_SECONDS,
      fadeOut: FADE_OUT_SECONDS,
      outFile,
      timeoutMs: 3 * 60_000,
      signal: control.signal,
      logger: log,
      onProgress: (fraction) => control.onProgress(COMPOSE_SHARE + fraction * (1 - COMPOSE_SHARE)),
    });
    log.info({ ms: Date.now() - mastering, loudness: mastered.loudness }, "score mastered");
    const stored = await deps.media.store(job.tenantId, createReadStream(outFile), {
      contentType: "audio/mp4",
      maxBytes: MAX_SCORE_BYTES,
    });
    return { mediaId: stored.media.id, costUsd };
  });
}
