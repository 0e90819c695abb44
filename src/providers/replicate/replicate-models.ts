import type { AspectRatio } from "../../domain/vocabulary.js";

/**
 * Replicate image-to-video models as data: which input carries what, the durations and
 * resolutions each accepts, and what it costs. Adding a model is adding a row, not a branch.
 *
 * PRICES ARE LIST PRICES AS OF 2025-11 (replicate.com model pages), per second of output video,
 * without audio. They are an estimate shown to the user before a job; check them against the
 * model pages before relying on them, they change.
 */
export const REPLICATE_PRICES_AS_OF = "2025-11-01";

export interface ReplicateVideoModel {
  /** `owner/name` as in POST /v1/models/{owner}/{name}/predictions. */
  id: string;
  description: string;
  /** Input field names; `lastFrame` absent when the model cannot take an end frame. */
  inputs: {
    firstFrame: string;
    lastFrame?: string;
    prompt: string;
    duration: string;
    resolution?: string;
    aspectRatio?: string;
  };
  /** Durations (seconds) the model renders; a request is rounded up to the next one. */
  durations: readonly number[];
  /** Accepted resolution values, smallest first; the first is used unless told otherwise. */
  resolutions: readonly string[];
  /** Aspect ratios the model takes (its own spelling), by ours. Absent: follows the input image. */
  aspectRatios?: Partial<Record<AspectRatio, string>>;
  /** Pixel size the model renders at (of its default resolution), for downscaling data-URI inputs. */
  nativeSize: { width: number; height: number };
  /** Extra fixed inputs (e.g. `generate_audio: false`: MusicGen scores the video). */
  fixedInputs: Readonly<Record<string, unknown>>;
  /** Fixed inputs that only apply when a last frame is sent (Kling's end frame needs pro mode). */
  lastFrameInputs?: Readonly<Record<string, unknown>>;
  /** USD per billed second of output (see REPLICATE_PRICES_AS_OF). */
  usdPerSecond: number;
}

const VEO_INPUTS = {
  firstFrame: "image",
  lastFrame: "last_frame",
  prompt: "prompt",
  duration: "duration",
  resolution: "resolution",
  aspectRatio: "aspect_ratio",
} as const;

export const REPLICATE_VIDEO_MODELS: readonly ReplicateVideoModel[] = Object.freeze([
  {
    id: "google/veo-3.1-fast",
    description: "Google Veo 3.1 Fast: first and last frame, 720p/1080p, 4/6/8 s, no audio",
    inputs: VEO_INPUTS,
    durations: [4, 6, 8],
    resolutions: ["720p", "1080p"],
    aspectRatios: { LANDSCAPE_16_9: "16:9", PORTRAIT_9_16: "9:16" },
    nativeSize: { width: 1280, height: 720 },
    fixedInputs: { generate_audio: false },
    usdPerSecond: 0.1,
  },
  {
    id: "google/veo-3.1",
    description: "Google Veo 3.1: first and last frame, 720p/1080p, 4/6/8 s, no audio",
    inputs: VEO_INPUTS,
    durations: [4, 6, 8],
    resolutions: ["720p", "1080p"],
    aspectRatios: { LANDSCAPE_16_9: "16:9", PORTRAIT_9_16: "9:16" },
    nativeSize: { width: 1280, height: 720 },
    fixedInputs: { generate_audio: false },
    usdPerSecond: 0.2,
  },
  {
    id: "minimax/hailuo-02",
    description:
      "MiniMax Hailuo-02: first and last frame, 768p/1080p, 6 or 10 s (shorter scenes are trimmed, billed 6 s)",
    inputs: {
      firstFrame: "first_frame_image",
      lastFrame: "last_frame_image",
      prompt: "prompt",
      duration: "duration",
      resolution: "resolution",
    },
    durations: [6, 10],
    resolutions: ["768p", "1080p"],
    nativeSize: { width: 1366, height: 768 },
    fixedInputs: { prompt_optimizer: false },
    usdPerSecond: 0.045,
  },
  {
    id: "kwaivgi/kling-v2.1",
    description: "Kling v2.1 (pro mode for the end frame): 5 or 10 s, 1080p",
    inputs: { firstFrame: "start_image", lastFrame: "end_image", prompt: "prompt", duration: "duration" },
    durations: [5, 10],
    resolutions: ["1080p"],
    nativeSize: { width: 1920, height: 1080 },
    fixedInputs: { mode: "pro" },
    lastFrameInputs: { mode: "pro" },
    usdPerSecond: 0.09,
  },
]);

/** MusicGen: billed by GPU time; ~1 s of GPU per second of audio on the hardware it runs on. */
export const MUSICGEN = Object.freeze({
  id: "meta/musicgen",
  /** Not an official model: run by version (the latest public one when written; check it). */
  version: "671ac645ce5e552cc63a54a2bbff63fcf798043055d2dac5fc9e36a837eedcfb",
  modelVersion: "stereo-melody-large",
  /** Longest segment the melody/large versions generate in one prediction. */
  maxSegmentSeconds: 30,
  /** Output sample rate of MusicGen. */
  sampleRate: 32_000,
  /** USD per second of prediction time (Nvidia A100 list price, as of REPLICATE_PRICES_AS_OF). */
  usdPerGpuSecond: 0.0014,
  /** Estimate per second of music (about 1.5 GPU seconds per second of audio), for quotes. */
  usdPerOutputSecond: 0.0021,
});

export function videoModel(id: string): ReplicateVideoModel | undefined {
  return REPLICATE_VIDEO_MODELS.find((model) => model.id === id);
}

/**
 * The duration to ask the model for and the seconds billed: the smallest allowed duration that
 * covers the request (a longer clip is trimmed), or the longest when nothing covers it.
 */
export function billedDuration(model: ReplicateVideoModel, seconds: number): number {
  if (!(seconds > 0)) throw new Error(`seconds must be positive: ${seconds}`);
  const sorted = [...model.durations].sort((a, b) => a - b);
  return sorted.find((d) => d >= seconds - 1e-9) ?? sorted[sorted.length - 1]!;
}

/** Whether the model can render the request at all (the scene would be cut short otherwise). */
export function supportsSeconds(model: ReplicateVideoModel, seconds: number): boolean {
  return seconds > 0 && seconds <= Math.max(...model.durations) + 1e-9;
}

export function estimateUsd(model: ReplicateVideoModel, seconds: number): number {
  return round4(billedDuration(model, seconds) * model.usdPerSecond);
}

export function round4(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}
