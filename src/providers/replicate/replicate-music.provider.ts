import { readFile, rename } from "node:fs/promises";
import path from "node:path";
import type { MusicMood, SceneType } from "../../domain/vocabulary.js";
import { AppError } from "../../errors.js";
import type { Logger } from "../../logger.js";
import { runFfmpeg } from "../../media/ffmpeg.runner.js";
import type { MusicProvider, MusicRequest } from "../types.js";
import { audioFinishArgs, audioJoinArgs, audioTailArgs } from "./music-audio-commands.js";
import { type PredictionWakeups, waitForPrediction } from "./prediction-waiter.js";
import { outputUrl, type ReplicateClient, redact } from "./replicate-client.js";
import { MUSICGEN, round4 } from "./replicate-models.js";

export interface ReplicateMusicOptions {
  client: ReplicateClient;
  ffmpeg: string;
  logger?: Logger;
  publicBaseUrl?: string;
  pollIntervalMs?: number;
  /** Longest single prediction (MusicGen melody/large: 30 s). */
  maxSegmentSeconds?: number;
  /** The tail of the previous segment each continuation is re-anchored on. */
  tailSeconds?: number;
  crossfadeSeconds?: number;
  /** Webhook wake-ups (from any process); without them the adapter polls. */
  wakeups?: PredictionWakeups;
}

const MOOD_WORDS: Record<MusicMood, string> = {
  LUXURY: "elegant cinematic orchestral ambient, soft piano and strings, warm pads, 80 bpm",
  MODERN: "modern minimal electronic, clean deep house groove, airy synths, 110 bpm",
  WARM: "warm acoustic guitar and soft piano, gentle folk, 90 bpm",
  UPBEAT: "upbeat feel-good pop, bright guitars, claps, 120 bpm",
  CALM: "calm ambient, slow evolving pads, light piano, 70 bpm",
};

const SCENE_WORDS: Record<SceneType, string> = {
  EXTERIOR: "an opening that sets the scene",
  LIVING: "relaxed and spacious",
  KITCHEN: "bright and lively",
  DINING: "warm and sociable",
  BEDROOM: "soft and intimate",
  BATH: "clean and serene",
  OUTDOOR: "open and uplifting, building to a resolved ending",
};

/**
 * A score from MusicGen: one prediction when the whole length fits the model's maximum, else
 * progressive continuation (each chunk continues a short tail of what came before, with that
 * chunk's scenes in its prompt), joined with crossfades and finished with a fade-out.
 */
export class ReplicateMusicProvider implements MusicProvider {
  readonly name = `replicate:${MUSICGEN.id}`;

  constructor(private readonly options: ReplicateMusicOptions) {}

  async compose(request: MusicRequest): Promise<{ outFile: string; costUsd?: number }> {
    const total = request.segments.reduce((sum, segment) => sum + segment.seconds, 0);
    if (!(total > 0)) throw new AppError("BAD_USER_INPUT", "The score needs a positive length");
    const max = this.options.maxSegmentSeconds ?? MUSICGEN.maxSegmentSeconds;
    const tail = this.options.tailSeconds ?? 5;
    const crossfade = this.options.crossfadeSeconds ?? 0.5;
    const chunks = planChunks(request.segments, total + 1 <= max ? max : max - tail - crossfade - 1);
    let costUsd = 0;
    let track = "";
    for (const [k, chunk] of chunks.entries()) {
      const prompt = `${MOOD_WORDS[request.mood]}; ${chunk.scenes.map((scene) => SCENE_WORDS[scene]).join(", then ")}${k === chunks.length - 1 ? "; a clear final cadence" : ""}. Instrumental, no vocals.`;
      const input: Record<string, unknown> = {
        model_version: MUSICGEN.modelVersion,
        prompt,
        output_format: "wav",
        normalization_strategy: "loudness",
        // Each chunk is a little longer than needed: the end is trimmed and faded, never short.
        duration: Math.ceil(chunk.seconds + 1 + (k > 0 ? tail : 0)),
      };
      if (k > 0) {
        const tailFile = path.join(request.workDir, `tail-${k}.wav`);
        await this.ffmpeg(audioTailArgs(track, tailFile, tail), request.signal);
        input.input_audio = `data:audio/wav;base64,${(await readFile(tailFile)).toString("base64")}`;
        input.continuation = true;
      }
      const { file, usd } = await this.predict(
        input,
        path.join(request.workDir, `segment-${k}.wav`),
        request,
      );
      costUsd += usd;
      if (k === 0) track = file;
      else {
        const joined = path.join(request.workDir, `joined-${k}.wav`);
        await this.ffmpeg(
          audioJoinArgs({
            previous: track,
            next: file,
            skipSeconds: tail,
            crossfadeSeconds: crossfade,
            outFile: joined,
          }),
          request.signal,
        );
        track = joined;
      }
      request.onProgress?.((k + 1) / (chunks.length + 1));
    }
    const finished = path.join(request.workDir, "score-finished.wav");
    await this.ffmpeg(
      audioFinishArgs({ inFile: track, outFile: finished, seconds: total, sampleRate: request.sampleRate }),
      request.signal,
    );
    await rename(finished, request.outFile);
    request.onProgress?.(1);
    return { outFile: request.outFile, costUsd: round4(costUsd) };
  }

  private async predict(
    input: Record<string, unknown>,
    file: string,
    request: MusicRequest,
  ): Promise<{ file: string; usd: number }> {
    const { client } = this.options;
    const webhook = this.options.publicBaseUrl
      ? {
          webhook: `${this.options.publicBaseUrl}/v1/webhooks/replicate`,
          webhook_events_filter: ["completed"],
        }
      : {};
    const created = await client.create(
      MUSICGEN.id,
      { input, ...webhook },
      { cancelAfter: "10m", signal: request.signal, version: MUSICGEN.version },
    );
    const final = await waitForPrediction(client, created.id, {
      pollIntervalMs: this.options.pollIntervalMs ?? (this.options.publicBaseUrl ? 5_000 : 2_000),
      deadlineMs: 11 * 60_000,
      signal: request.signal,
      wakeups: this.options.wakeups,
    });
    if (final.status !== "succeeded") {
      if (request.signal?.aborted) throw new AppError("CANCELLED", "Cancelled");
      const message = typeof final.error === "string" ? redact(final.error).slice(0, 300) : final.status;
      throw new AppError("PROVIDER_FAILED", `Replicate: MusicGen ${final.status}: ${message}`, {
        transient: final.status === "failed",
      });
    }
    const url = outputUrl(final.output);
    if (!url)
      throw new AppError("PROVIDER_FAILED", "Replicate: MusicGen returned no audio", { transient: true });
    await client.download(url, file, request.signal);
    const seconds = final.metrics?.predict_time;
    const usd =
      seconds !== undefined
        ? seconds * MUSICGEN.usdPerGpuSecond
        : Number(input.duration) * MUSICGEN.usdPerOutputSecond;
    return { file, usd };
  }

  private async ffmpeg(args: string[], signal?: AbortSignal): Promise<void> {
    await runFfmpeg(this.options.ffmpeg, args, { timeoutMs: 120_000, signal, logger: this.options.logger });
  }
}

/** Consecutive scenes grouped into chunks of at most `max` seconds (a long scene gets its own). */
export function planChunks(
  segments: readonly { sceneType: SceneType; seconds: number }[],
  max: number,
): { scenes: SceneType[]; seconds: number }[] {
  const chunks: { scenes: SceneType[]; seconds: number }[] = [];
  for (const segment of segments) {
    let left = segment.seconds;
    while (left > 1e-9) {
      let current = chunks[chunks.length - 1];
      if (!current || current.seconds >= max - 1e-9) {
        current = { scenes: [], seconds: 0 };
        chunks.push(current);
      }
      const take = Math.min(left, max - current.seconds);
      if (current.scenes[current.scenes.length - 1] !== segment.sceneType || current.seconds === 0)
        current.scenes.push(segment.sceneType);
      current.seconds += take;
      left -= take;
    }
  }
  return chunks;
}
