import { createReadStream } from "node:fs";
import path from "node:path";
import type { SceneEntity, VideoJobEntity } from "../db/entities/index.js";
import type { SceneType } from "../domain/vocabulary.js";
import { AppError } from "../errors.js";
import { assembleVideo, settled } from "../media/assembly.js";
import { type MediaInfo, probeMedia, withTempDir } from "../media/ffmpeg.runner.js";
import type { MediaRow } from "../media/media.store.js";
import { planOutroCuts } from "../render/composition-plan.js";
import { type RenderedCuts, renderCuts } from "../render/cut-renderer.js";
import { type Cut, hasBrandedOutro } from "../render/outro-card.js";
import type { FinishedAssembly } from "../services/video-job.state-machine.js";
import { clipCues, outroSecondsOf, overlaySpecOf, shownDisclosure } from "./listing-overlays.js";
import type { PipelineDeps } from "./pipeline-deps.js";
import type { JobHandler } from "./worker.js";

const MAX_VIDEO_BYTES = 2 * 1024 * 1024 * 1024;
const MAX_POSTER_BYTES = 50 * 1024 * 1024;
/** Captions tracks are served as WebVTT beside the video. */
const VTT = "text/vtt";

export type AssembleVideoDeps = Pick<
  PipelineDeps,
  "jobs" | "cancellations" | "media" | "ffmpeg" | "logger" | "campaigns" | "tenants" | "assets" | "drawLayers"
>;

/**
 * video.assemble: runs once per assembly generation (the fan-in enqueues it exactly once).
 * Joins the clips and muxes the mastered score, all by stream copy (the loudness work was done
 * by video.score), stores video and poster, and ends the job SUCCEEDED — unless it was cancelled
 * or superseded meanwhile, in which case it keeps nothing.
 */
export const assembleVideoJob =
  (deps: AssembleVideoDeps): JobHandler<"video.assemble"> =>
  async ({ jobId, generation }, run) => {
    const job = await deps.jobs.load(jobId);
    if (job?.status !== "ASSEMBLING" || job.assemblyGeneration !== generation) return;
    run.onFailure((failure) => deps.jobs.stepFailed(jobId, failure, "Assembly"), {
      code: "INTERNAL_SERVER_ERROR",
      message: "Assembly failed",
    });
    run.watch(jobId, deps.cancellations);
    const video = await assemble(deps, job, generation, run.signal);
    await deps.jobs.finish(jobId, generation, video);
  };

/**
 * Downloads the clips and the score, joins them by stream copy, stores the video and its poster.
 * A listing video makes two cuts of the same clips (which carry their title, captions and
 * disclosure already): only the outro is rendered, per cut, and each cut is joined by copy.
 */
async function assemble(
  deps: AssembleVideoDeps,
  job: VideoJobEntity,
  generation: number,
  signal: AbortSignal,
): Promise<FinishedAssembly> {
  const { media } = deps;
  const log = deps.logger.child({ jobId: job.id, tenantId: job.tenantId, part: "assemble" });
  const scenes = await deps.jobs.scenes(job.id);
  const clipMedia = await media.byIds(
    job.tenantId,
    scenes.map((scene) => scene.clipMediaId ?? ""),
  );
  const score = job.scoreMediaId ? await media.byId(job.tenantId, job.scoreMediaId) : null;
  const byId = new Map(clipMedia.map((row) => [row.id, row]));
  // Two scenes may share one clip (same bytes are stored once), so check per scene.
  if (!score || scenes.some((scene) => !scene.clipMediaId || !byId.has(scene.clipMediaId))) {
    throw new AppError("INTERNAL_SERVER_ERROR", "A clip or the score is missing");
  }
  return await withTempDir(`propvid-assemble-${job.id.slice(0, 8)}-`, async (dir) => {
    const clipFiles = scenes.map((scene) =>
      path.join(dir, `clip-${String(scene.index).padStart(2, "0")}.mp4`),
    );
    const scoreAudio = path.join(dir, "score.m4a");
    if (job.options.overlays) await deps.jobs.composingCuts(job.id, generation);
    // All downloads at once (they are bound by the database, not by this process), each file
    // probed as soon as it is written, while the others still download.
    const probes = new Map<string, Promise<MediaInfo>>();
    const fetchAndProbe = async (row: MediaRow, file: string) => {
      await media.toFile(row, file, signal);
      const probed = probeMedia(deps.ffmpeg.ffprobe, file, { timeoutMs: 60_000, signal, logger: log });
      probed.catch(() => {}); // awaited by the assembly; a failure surfaces there
      probes.set(file, probed);
    };
    const downloads = Promise.all([
      ...scenes.map((scene, i) => fetchAndProbe(byId.get(scene.clipMediaId!)!, clipFiles[i]!)),
      fetchAndProbe(score, scoreAudio),
    ]);
    if (job.options.overlays) {
      // the outros need the photo and the facts, not the clips: they render while the clips download
      const [rendered] = await settled<RenderedCuts | undefined>([
        renderListingOutros(deps, job, { dir, scenes, clipFiles, signal }),
        downloads.then(() => undefined),
      ]);
      return await assembleListingCuts(deps, job, {
        dir,
        scenes,
        scoreAudio,
        signal,
        probes,
        rendered: rendered!,
      });
    }
    await downloads;
    const outFile = path.join(dir, "video.mp4");
    const posterFile = path.join(dir, "poster.jpg");
    const started = Date.now();
    const assembled = await assembleVideo({
      ffmpeg: deps.ffmpeg.ffmpeg,
      ffprobe: deps.ffmpeg.ffprobe,
      clipFiles,
      scoreAudio,
      outFile,
      posterFile,
      probes,
      timeoutMs: 5 * 60_000,
      signal,
      logger: log,
    });
    log.info({ ms: Date.now() - started }, "video assembled");
    const video = await media.store(job.tenantId, createReadStream(outFile), {
      contentType: "video/mp4",
      maxBytes: MAX_VIDEO_BYTES,
    });
    const poster = await media.store(job.tenantId, createReadStream(posterFile), {
      contentType: "image/jpeg",
      maxBytes: MAX_POSTER_BYTES,
    });
    return {
      videoMediaId: video.media.id,
      posterMediaId: poster.media.id,
      durationSeconds: assembled.durationSeconds,
      width: assembled.width,
      height: assembled.height,
      byteSize: video.media.byteSize,
    };
  });
}

/**
 * The listing video's outros, per cut, rendered into `dir` (only the outro is rendered: the clips
 * carry their title, captions and disclosure already), and each cut's concat script.
 */
async function renderListingOutros(
  deps: AssembleVideoDeps,
  job: VideoJobEntity,
  input: { dir: string; scenes: SceneEntity[]; clipFiles: string[]; signal: AbortSignal },
): Promise<RenderedCuts> {
  const { media } = deps;
  const { dir, scenes, signal } = input;
  const log = deps.logger.child({ jobId: job.id, tenantId: job.tenantId, part: "assemble" });
  const started = Date.now();
  const spec = await overlaySpecOf(deps, job, { images: true });
  // the outro pushes into the last scene's closing photo
  const lastScene = scenes[scenes.length - 1]!;
  const [photo] = await deps.assets.byIds(job.tenantId, [
    lastScene.lastAssetId ?? lastScene.firstAssetId ?? "",
  ]);
  const photoMedia = photo?.mediaId ? await media.byId(job.tenantId, photo.mediaId) : null;
  if (!photoMedia) throw new AppError("BAD_USER_INPUT", "The last scene's photo was deleted");
  const outroPhoto = path.join(dir, "outro-photo");
  await media.toFile(photoMedia, outroPhoto, signal);
  const plan = planOutroCuts(
    scenes.map((scene, i) => ({
      index: scene.index,
      clipFile: input.clipFiles[i]!,
      seconds: job.options.secondsPerScene,
      sceneType: scene.sceneType as SceneType,
    })),
    { brandedOutro: hasBrandedOutro(spec), outroSeconds: outroSecondsOf(job.options) },
  );
  const rendered = await renderCuts(plan, spec, {
    ffmpeg: deps.ffmpeg.ffmpeg,
    workDir: dir,
    outroPhoto,
    signal,
    logger: log,
    clipCues: clipCues(scenes, job.options.secondsPerScene),
    drawLayers: deps.drawLayers,
  });
  log.info({ ms: Date.now() - started, overlayMs: rendered.timingsMs }, "listing video outros rendered");
  return rendered;
}

/** The two cuts of a listing video: the clips downloaded to `dir`, the outros rendered. */
async function assembleListingCuts(
  deps: AssembleVideoDeps,
  job: VideoJobEntity,
  input: {
    dir: string;
    scenes: SceneEntity[];
    scoreAudio: string;
    signal: AbortSignal;
    probes: Map<string, Promise<MediaInfo>>;
    rendered: RenderedCuts;
  },
): Promise<FinishedAssembly> {
  const { media } = deps;
  const { dir, scenes, signal, rendered } = input;
  const log = deps.logger.child({ jobId: job.id, tenantId: job.tenantId, part: "assemble" });
  const started = Date.now();
  // The two cuts are muxed at once (stream copies), and share the branded cut's poster: both
  // open on the same frame.
  const assembleCut = (cut: Cut) =>
    assembleVideo({
      ffmpeg: deps.ffmpeg.ffmpeg,
      ffprobe: deps.ffmpeg.ffprobe,
      clipFiles: rendered.cuts[cut].entries.map((entry) => entry.file),
      scoreAudio: input.scoreAudio,
      outFile: path.join(dir, `${cut}.mp4`),
      posterFile: cut === "branded" ? path.join(dir, "poster.jpg") : undefined,
      // the cuts share their clips and the score: each file is probed once
      probes: input.probes,
      timeoutMs: 5 * 60_000,
      signal,
      logger: log,
    });
  const [assembled] = await Promise.all([assembleCut("branded"), assembleCut("unbranded")]);
  log.info({ ms: Date.now() - started }, "listing video cuts assembled");
  const store = (file: string, contentType: string, maxBytes: number) =>
    media.store(job.tenantId, createReadStream(file), { contentType, maxBytes });
  const text = (vtt: string) =>
    media.store(job.tenantId, Buffer.from(vtt), { contentType: VTT, maxBytes: MAX_POSTER_BYTES });
  const [branded, unbranded, poster, captions, unbrandedCaptions] = await Promise.all([
    store(path.join(dir, "branded.mp4"), "video/mp4", MAX_VIDEO_BYTES),
    store(path.join(dir, "unbranded.mp4"), "video/mp4", MAX_VIDEO_BYTES),
    store(path.join(dir, "poster.jpg"), "image/jpeg", MAX_POSTER_BYTES),
    text(rendered.cuts.branded.captions),
    text(rendered.cuts.unbranded.captions),
  ]);
  return {
    videoMediaId: branded.media.id,
    posterMediaId: poster.media.id,
    durationSeconds: assembled.durationSeconds,
    width: assembled.width,
    height: assembled.height,
    byteSize: branded.media.byteSize,
    unbrandedVideoMediaId: unbranded.media.id,
    captionsMediaId: captions.media.id,
    unbrandedCaptionsMediaId: unbrandedCaptions.media.id,
    aiDisclosure: shownDisclosure(scenes),
  };
}
