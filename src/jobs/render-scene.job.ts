import { createReadStream } from "node:fs";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import type { VideoJobEntity } from "../db/entities/index.js";
import type { SceneOverlayColumns } from "../db/entities/scene.entity.js";
import { type AspectRatio, type CameraMove, FPS, OUTPUT_SIZE } from "../domain/vocabulary.js";
import { AppError } from "../errors.js";
import { runFfmpeg, withTempDir } from "../media/ffmpeg.runner.js";
import type { ClipOverlay } from "../providers/types.js";
import { burnOverlaysArgs } from "../render/overlay-commands.js";
import type { SceneClaim } from "../services/job-part.state-machine.js";
import { overlaySpecOf, sceneOverlays } from "./listing-overlays.js";
import type { PipelineDeps } from "./pipeline-deps.js";
import type { JobHandler } from "./worker.js";

/** What a scene reports for an error that is not one of ours. */
const RENDERING_FAILED = { code: "PROVIDER_FAILED", message: "Rendering failed" } as const;
/** A clip may be as large as this (a 10 s 1080p clip is ~10 MB; providers' clips are normalised). */
const MAX_CLIP_BYTES = 512 * 1024 * 1024;

export type RenderSceneDeps = Pick<
  PipelineDeps,
  | "jobs"
  | "parts"
  | "cancellations"
  | "assets"
  | "providers"
  | "media"
  | "config"
  | "mediaUrl"
  | "logger"
  | "ffmpeg"
  | "campaigns"
  | "tenants"
  | "metrics"
  | "drawLayers"
>;

/**
 * video.scene: renders one scene's clip with its provider and stores it. The claim gives this
 * attempt a fresh token; every later write is guarded by it, so an attempt whose claim was taken
 * over (it stalled, another finished) changes nothing when it comes back.
 */
export const renderSceneJob =
  (deps: RenderSceneDeps): JobHandler<"video.scene"> =>
  async ({ jobId, index }, run) => {
    const job = await deps.jobs.load(jobId);
    if (job?.status !== "RENDERING") return;
    const claim = await deps.parts.claimScene(jobId, index);
    if (!claim) return; // done, cancelled or failed already
    run.onFailure((failure) => deps.parts.sceneFailed(claim, failure), RENDERING_FAILED);
    const report = run.watch(jobId, deps.cancellations, (f) => deps.parts.reportSceneProgress(claim, f));
    const clip = await renderClip(deps, job, claim, { signal: run.signal, onProgress: report });
    await deps.parts.sceneSucceeded(claim, clip);
  };

/** Fetches the scene's photos, has the provider render the clip, and stores it. */
async function renderClip(
  deps: RenderSceneDeps,
  job: VideoJobEntity,
  claim: SceneClaim,
  control: { signal: AbortSignal; onProgress: (fraction: number) => void },
): Promise<{ clipMediaId: string; costUsd: number; overlays: SceneOverlayColumns[] }> {
  const { media } = deps;
  const { scene, index, token } = claim;
  const log = deps.logger.child({ jobId: job.id, sceneIndex: index, tenantId: job.tenantId });
  const size = OUTPUT_SIZE[job.options.aspectRatio as AspectRatio];
  return await withTempDir(`propvid-scene-${job.id.slice(0, 8)}-${index}-`, async (dir) => {
    const photos = await deps.assets.byIds(job.tenantId, [scene.firstAssetId ?? "", scene.lastAssetId ?? ""]);
    const mediaOf = async (assetId: string | null) => {
      const mediaId = photos.find((photo) => photo.id === assetId)?.mediaId;
      return mediaId ? await media.byId(job.tenantId, mediaId) : null;
    };
    const first = await mediaOf(scene.firstAssetId);
    const last = await mediaOf(scene.lastAssetId);
    if (!first || !last) throw new AppError("BAD_USER_INPUT", "A photo of this scene was deleted");
    const firstPath = path.join(dir, "first");
    const lastPath = last.id === first.id ? firstPath : path.join(dir, "last");
    await Promise.all([
      media.toFile(first, firstPath, control.signal),
      last.id !== first.id ? media.toFile(last, lastPath, control.signal) : undefined,
    ]);
    const outFile = path.join(dir, "clip.mp4");
    const provider = deps.providers.video(job.options.videoProvider);
    // A listing video's title, room caption and AI disclosure ride on the clip's one encode.
    const overlays = job.options.overlays
      ? await sceneOverlays(
          await overlaySpecOf(deps, job, { images: false }),
          scene,
          job,
          provider.generative === true,
          photos.find((photo) => photo.id === scene.firstAssetId)?.roomType ??
            photos.find((photo) => photo.id === scene.firstAssetId)?.roomTypeGuess ??
            null,
          deps.drawLayers,
        )
      : { clip: [], shown: [] };
    const started = Date.now();
    // Remote providers fetch the photos themselves when they can reach us (15-minute tokens).
    const signed = deps.config.publicBaseUrlConfigured
      ? {
          firstImageUrl: deps.mediaUrl(job.tenantId, first.id, "provider", 900),
          lastImageUrl: deps.mediaUrl(job.tenantId, last.id, "provider", 900),
        }
      : {};
    const rendered = await provider.render({
      firstImagePath: firstPath,
      lastImagePath: lastPath,
      cameraMove: (scene.cameraMove ?? "PUSH_IN") as CameraMove,
      prompt: scene.prompt ?? "",
      seconds: job.options.secondsPerScene,
      width: size.width,
      height: size.height,
      fps: FPS,
      outFile,
      workDir: dir,
      onProgress: control.onProgress,
      signal: control.signal,
      ...signed,
      attemptToken: token,
      jobId: job.id,
      sceneIndex: index,
      providerRef: scene.providerRef,
      // Stored before the adapter waits, so a retry after a crash adopts it instead of paying twice.
      onProviderRef: async (ref) => void (await deps.parts.recordSceneProviderRef(claim, ref)),
      overlays: overlays.clip.length ? overlays.clip : undefined,
    });
    let clipFile = outFile;
    if (overlays.clip.length && !rendered.overlaysBurned) {
      // A provider that cannot blend them: one burn pass over its clip.
      clipFile = path.join(dir, "clip-overlaid.mp4");
      await burnClipOverlays(
        deps,
        overlays.clip,
        outFile,
        clipFile,
        job.options.secondsPerScene,
        control.signal,
      );
    }
    const costUsd = rendered.costUsd ?? 0;
    log.info({ ms: Date.now() - started, costUsd }, "scene rendered");
    deps.metrics.sceneRendered(job.options.videoProvider, (Date.now() - started) / 1000);
    const stored = await media.store(job.tenantId, createReadStream(clipFile), {
      contentType: "video/mp4",
      maxBytes: MAX_CLIP_BYTES,
    });
    return { clipMediaId: stored.media.id, costUsd, overlays: overlays.shown };
  });
}

/** Burns a clip's overlays with FFmpeg (for providers that do not blend them themselves). */
async function burnClipOverlays(
  deps: RenderSceneDeps,
  overlays: readonly ClipOverlay[],
  inFile: string,
  outFile: string,
  seconds: number,
  signal: AbortSignal,
): Promise<void> {
  const dir = path.dirname(outFile);
  const layers = await Promise.all(
    overlays.map(async (overlay, index) => {
      const pngFile = path.join(dir, `overlay-${index}.png`);
      await writeFile(pngFile, overlay.png);
      return { ...overlay, pngFile };
    }),
  );
  await runFfmpeg(
    deps.ffmpeg.ffmpeg,
    burnOverlaysArgs({ inFile, outFile, layers, frames: Math.round(seconds * FPS), fps: FPS }),
    { timeoutMs: 5 * 60_000, signal, logger: deps.logger },
  );
}
