import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import type { CameraMove } from "../../domain/vocabulary.js";
import { AppError, isAppError } from "../../errors.js";
import type { Logger } from "../../logger.js";
import { runFfmpeg } from "../../media/ffmpeg.runner.js";
import sharp from "../../media/sharp.js";
import { normaliseWithOverlaysArgs } from "../../render/overlay-commands.js";
import type { VideoProvider, VideoRenderRequest, VideoRenderResult } from "../types.js";
import { type PredictionWakeups, waitForPrediction } from "./prediction-waiter.js";
import { outputUrl, type Prediction, type ReplicateClient, redact, TERMINAL } from "./replicate-client.js";
import { billedDuration, type ReplicateVideoModel, round4, supportsSeconds } from "./replicate-models.js";

export interface ReplicateVideoOptions {
  client: ReplicateClient;
  model: ReplicateVideoModel;
  ffmpeg: string;
  logger?: Logger;
  /** Set when Replicate can reach us: inputs are fetched there and the webhook lands there. */
  publicBaseUrl?: string;
  /** Replicate's own deadline per prediction (`Cancel-After`), e.g. "10m". */
  cancelAfter?: string;
  pollIntervalMs?: number;
  /** Webhook wake-ups (from any process); without them the adapter polls. */
  wakeups?: PredictionWakeups;
}

/** Words Replicate's models use when their safety filter refuses an input or an output. */
const MODERATION = /safety|moderat|flagged|nsfw|sensitive content|content policy/i;

const MOVE_WORDS: Record<CameraMove, string> = {
  PUSH_IN: "slow dolly push-in",
  PULL_OUT: "slow dolly pull-out",
  TRUCK_LEFT: "smooth truck to the left",
  TRUCK_RIGHT: "smooth truck to the right",
  PAN_LEFT: "slow pan to the left",
  PAN_RIGHT: "slow pan to the right",
  CRANE_UP: "gentle crane up",
  CRANE_DOWN: "gentle crane down",
  ORBIT_LEFT: "slow orbit to the left",
  ORBIT_RIGHT: "slow orbit to the right",
};

/** Used once when the safety filter refused the first prompt: nothing in it can be misread. */
const SOFT_PROMPT =
  "A calm, slow camera move through an empty, tidy home. Architectural photography, natural light.";

/**
 * Image-to-video on Replicate: first and last frame in, a clip in the house encoding out.
 * The prediction id is stored (onProviderRef) before any waiting, and an earlier attempt's
 * prediction is adopted rather than paid for twice.
 */
export class ReplicateVideoProvider implements VideoProvider {
  readonly name: string;
  /** Image-to-video models invent motion the photos do not show: their scenes carry the disclosure. */
  readonly generative = true;
  private readonly model: ReplicateVideoModel;

  constructor(private readonly options: ReplicateVideoOptions) {
    this.model = options.model;
    this.name = `replicate:${options.model.id}`;
  }

  async render(request: VideoRenderRequest): Promise<VideoRenderResult> {
    const { model, options } = this;
    if (!supportsSeconds(model, request.seconds)) {
      throw new AppError(
        "BAD_USER_INPUT",
        `${model.id} renders at most ${Math.max(...model.durations)} s per scene`,
      );
    }
    const duration = billedDuration(model, request.seconds);
    const sceneKey = request.jobId !== undefined ? `${request.jobId}.${request.sceneIndex ?? 0}` : undefined;
    const input = await this.buildInput(request, duration, promptFor(request));
    const log = options.logger?.child({ provider: this.name });
    let costUsd = 0;
    let prediction = await this.adopt(request, sceneKey, input, (extra) => {
      costUsd += extra;
    });
    let softened = false;
    for (;;) {
      if (!prediction) {
        prediction = await options.client.create(
          model.id,
          { input, ...this.webhook(request, sceneKey) },
          { cancelAfter: options.cancelAfter ?? "10m", signal: request.signal },
        );
        log?.info({ predictionId: prediction.id }, "prediction created");
      }
      await request.onProviderRef?.(prediction.id);
      const final = TERMINAL.has(prediction.status)
        ? prediction
        : await waitForPrediction(options.client, prediction.id, {
            pollIntervalMs: options.pollIntervalMs ?? (options.publicBaseUrl ? 5_000 : 2_000),
            deadlineMs: parseDuration(options.cancelAfter ?? "10m") + 60_000,
            signal: request.signal,
            onProgress: (f) => request.onProgress?.(f * 0.9),
            wakeups: options.wakeups,
          });
      if (final.status === "succeeded") {
        costUsd += duration * model.usdPerSecond;
        await this.finish(final, request);
        request.onProgress?.(1);
        return {
          outFile: request.outFile,
          costUsd: round4(costUsd),
          overlaysBurned: Boolean(request.overlays?.length),
        };
      }
      if (request.signal?.aborted) throw new AppError("CANCELLED", "Cancelled");
      if (final.status !== "failed") {
        throw new AppError("PROVIDER_FAILED", `Replicate: the prediction was ${final.status}`, {
          transient: true,
        });
      }
      const message = errorText(final.error);
      if (MODERATION.test(message)) {
        if (!softened) {
          softened = true;
          log?.warn(
            { predictionId: final.id },
            "prediction refused by the safety filter; retrying with a softened prompt",
          );
          input[model.inputs.prompt] = SOFT_PROMPT;
          prediction = undefined;
          continue;
        }
        throw new AppError(
          "PROVIDER_FAILED",
          "The video model's safety filter refused this scene's photos; choose other photos for it or use another provider",
          { details: { provider: this.name, reason: "moderation" } },
        );
      }
      throw new AppError(
        "PROVIDER_FAILED",
        `Replicate: the prediction failed${message ? `: ${message.slice(0, 300)}` : ""}`,
        {
          transient: true,
        },
      );
    }
  }

  private webhook(request: VideoRenderRequest, sceneKey: string | undefined) {
    const base = this.options.publicBaseUrl;
    if (!base) return {};
    const query = new URLSearchParams();
    if (request.attemptToken) query.set("scene", request.attemptToken);
    if (sceneKey) query.set("key", sceneKey);
    return { webhook: `${base}/v1/webhooks/replicate?${query}`, webhook_events_filter: ["completed"] };
  }

  private async buildInput(
    request: VideoRenderRequest,
    duration: number,
    prompt: string,
  ): Promise<Record<string, unknown>> {
    const { model } = this;
    const aspect = model.aspectRatios ? aspectOf(request.width, request.height) : undefined;
    const input: Record<string, unknown> = {
      [model.inputs.prompt]: prompt,
      [model.inputs.duration]: duration,
      [model.inputs.firstFrame]: request.firstImageUrl ?? (await this.dataUri(request.firstImagePath)),
      ...model.fixedInputs,
    };
    if (model.inputs.resolution) input[model.inputs.resolution] = model.resolutions[0];
    if (model.inputs.aspectRatio && aspect && model.aspectRatios?.[aspect])
      input[model.inputs.aspectRatio] = model.aspectRatios[aspect];
    if (model.inputs.lastFrame && request.lastImagePath !== request.firstImagePath) {
      input[model.inputs.lastFrame] = request.lastImageUrl ?? (await this.dataUri(request.lastImagePath));
      Object.assign(input, model.lastFrameInputs ?? {});
    }
    return input;
  }

  /** The photo downscaled to the model's size, as a JPEG data URI (when Replicate cannot reach us). */
  private async dataUri(file: string): Promise<string> {
    const { width, height } = this.model.nativeSize;
    const jpeg = await sharp(await readFile(file))
      .rotate()
      .resize({
        width: Math.max(width, height),
        height: Math.max(width, height),
        fit: "inside",
        withoutEnlargement: true,
      })
      .jpeg({ quality: 88 })
      .toBuffer();
    return `data:image/jpeg;base64,${jpeg.toString("base64")}`;
  }

  /**
   * An earlier attempt's prediction: the stored ref, else one found among recent predictions by
   * our scene key (in its webhook URL) or by identical inputs. One is adopted; any others are
   * cancelled, and the cost of one that had already finished is recorded.
   */
  private async adopt(
    request: VideoRenderRequest,
    sceneKey: string | undefined,
    input: Record<string, unknown>,
    addCost: (usd: number) => void,
  ): Promise<Prediction | undefined> {
    const { client } = this.options;
    if (request.providerRef) {
      // A stored ref that is gone (404) starts afresh; a flaky API is retried later, not duplicated.
      const earlier = await client.get(request.providerRef, request.signal).catch((error: unknown) => {
        if (isAppError(error) && (error.transient || error.code === "CANCELLED")) throw error;
        return undefined;
      });
      if (earlier && (earlier.status === "succeeded" || !TERMINAL.has(earlier.status))) return earlier;
      return undefined;
    }
    if (!sceneKey) return undefined;
    const recent = await client.listRecent(request.signal).catch(() => [] as Prediction[]);
    const hourAgo = Date.now() - 60 * 60 * 1000;
    const ours = recent.filter(
      (p) =>
        p.model === this.model.id &&
        (p.status === "succeeded" || !TERMINAL.has(p.status)) &&
        (!p.created_at || Date.parse(p.created_at) > hourAgo) &&
        // Tagged predictions match by our scene key only; without a webhook (no public URL)
        // there is no tag, and identical inputs are the best evidence there is.
        (this.options.publicBaseUrl
          ? webhookKey(p.webhook) === sceneKey
          : !p.webhook && sameInput(p.input, input, this.model)),
    );
    if (ours.length === 0) return undefined;
    // Prefer a finished one: it costs nothing more.
    ours.sort((a, b) => Number(b.status === "succeeded") - Number(a.status === "succeeded"));
    const [adopted, ...extra] = ours;
    for (const duplicate of extra) {
      if (duplicate.status === "succeeded")
        addCost(billedDuration(this.model, request.seconds) * this.model.usdPerSecond);
      else await client.cancel(duplicate.id).catch(() => undefined);
    }
    this.options.logger?.warn(
      { predictionId: adopted!.id, duplicates: extra.length },
      "adopted an earlier prediction of this scene",
    );
    return adopted;
  }

  private async finish(prediction: Prediction, request: VideoRenderRequest): Promise<void> {
    const url = outputUrl(prediction.output);
    if (!url)
      throw new AppError("PROVIDER_FAILED", "Replicate: the prediction has no output", { transient: true });
    const raw = path.join(request.workDir, "provider-output.mp4");
    await this.options.client.download(url, raw, request.signal);
    // The clip is re-encoded to the house settings anyway: its overlays ride on that one pass.
    const layers = await Promise.all(
      (request.overlays ?? []).map(async (overlay, index) => {
        const pngFile = path.join(request.workDir, `overlay-${index}.png`);
        await writeFile(pngFile, overlay.png);
        return { ...overlay, pngFile };
      }),
    );
    await runFfmpeg(
      this.options.ffmpeg,
      normaliseWithOverlaysArgs({
        inFile: raw,
        outFile: request.outFile,
        width: request.width,
        height: request.height,
        seconds: request.seconds,
        fps: request.fps,
        layers,
      }),
      { timeoutMs: 300_000, signal: request.signal, logger: this.options.logger },
    );
  }
}

export function promptFor(request: Pick<VideoRenderRequest, "prompt" | "cameraMove">): string {
  const scene = request.prompt.trim() || "A bright, inviting room of a home for sale";
  return `${scene}. Camera: ${MOVE_WORDS[request.cameraMove]}, steady and cinematic. Photorealistic real-estate footage; keep the room exactly as in the photos; no people, no text.`;
}

function aspectOf(width: number, height: number) {
  return width > height ? "LANDSCAPE_16_9" : width < height ? "PORTRAIT_9_16" : "SQUARE_1_1";
}

function webhookKey(webhook: string | undefined): string | undefined {
  if (!webhook) return undefined;
  try {
    return new URL(webhook).searchParams.get("key") ?? undefined;
  } catch {
    return undefined;
  }
}

/** Same first frame and prompt; signed URLs compared without their (per-attempt) token. */
function sameInput(
  a: Record<string, unknown> | undefined,
  b: Record<string, unknown>,
  model: ReplicateVideoModel,
): boolean {
  if (!a) return false;
  const strip = (value: unknown) => (typeof value === "string" ? value.replace(/\?.*$/, "") : value);
  return (
    strip(a[model.inputs.firstFrame]) === strip(b[model.inputs.firstFrame]) &&
    a[model.inputs.prompt] === b[model.inputs.prompt]
  );
}

/** A failed prediction's error, without signed-URL tokens (it may quote our inputs). */
function errorText(error: unknown): string {
  if (!error) return "";
  return redact(typeof error === "string" ? error : JSON.stringify(error));
}

/** "10m", "90s", "1h" → milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+)(s|m|h)$/.exec(text);
  if (!match) throw new Error(`bad duration: ${text}`);
  return Number(match[1]) * { s: 1_000, m: 60_000, h: 3_600_000 }[match[2] as "s" | "m" | "h"];
}
