/**
 * The local renderer's worker side: decodes the clip's photos, samples every frame and writes it
 * straight into the x264 encoder, which this (media worker) thread starts through the one FFmpeg
 * runner. Frames never cross threads: the main thread only hears progress, and the encoder's
 * process group id so that it can kill it should this thread die (see worker-pool.ts).
 *
 * Two frame buffers take turns: while FFmpeg drains one from its pipe, the next frame is sampled
 * into the other, and a buffer is reused only once its write has completed. A fresh buffer per
 * frame (what crossed threads before) cost ~4 ms of page faults and zeroing on each 1080p frame,
 * and its writes ran on the main thread's event loop, 48 pipe wake-ups a frame.
 */
import { rm } from "node:fs/promises";
import type { Writable } from "node:stream";
import { AppError } from "../../errors.js";
import { runFfmpeg } from "../../media/ffmpeg.runner.js";
import { encodeRawFramesArgs } from "../../media/ffmpeg-commands.js";
import { type FrameOverlayer, prepareFrameOverlays } from "../../render/frame-compositor.js";
import { FrameSampler } from "./frame-sampler.js";
import { decodeClipPhotos, type VideoFramesRequest } from "./photo-decoder.js";

/** A clip as the provider asks a worker for it: the frames, and where the encoder writes them. */
export interface VideoClipRequest extends VideoFramesRequest {
  /** The ffmpeg binary. */
  ffmpeg: string;
  /** The MP4 to write; removed again if the render fails. */
  outFile: string;
  /** Wall-clock limit for the encoder (the provider keeps its own deadline as well). */
  timeoutMs: number;
}

/** What the encoder needs from the task it runs in (the task host's TaskContext provides it). */
export interface ClipTask {
  readonly signal: AbortSignal;
  progress(fraction: number): void;
  /** Registers a child process group this task owns; call the returned function once it has exited. */
  ownChildProcess(pid: number): () => void;
}

/** Frames between two progress reports (a message to the main thread each). */
const PROGRESS_EVERY = 6;
/** Frame buffers in turn: one being written to FFmpeg, one being sampled. */
const RING = 2;

export async function encodeClip(request: VideoClipRequest, task: ClipTask): Promise<{ frames: number }> {
  const sampler = new FrameSampler(await decodeClipPhotos(request));
  // on-screen layers (title, caption, disclosure) converted to YUV once, blended into each frame
  const overlay = await prepareFrameOverlays(request.overlays, { ...request.output, fps: request.fps });
  if (task.signal.aborted) throw new AppError("CANCELLED", "local render cancelled");
  const { width, height } = request.output;
  const args = encodeRawFramesArgs({
    width,
    height,
    fps: request.fps,
    frames: sampler.frameCount,
    outFile: request.outFile,
    pixelFormat: "yuv420p",
  });
  let release = () => {};
  try {
    await runFfmpeg(request.ffmpeg, args, {
      timeoutMs: request.timeoutMs,
      signal: task.signal,
      stdin: (stdin) => feedFrames(stdin, sampler, task, overlay),
      onSpawn: (pid) => {
        release = task.ownChildProcess(pid);
      },
    });
  } catch (error) {
    // FFmpeg has exited (the runner waits for it): nothing writes this file any more.
    await rm(request.outFile, { force: true });
    throw error;
  } finally {
    release();
  }
  return { frames: sampler.frameCount };
}

/** Samples every frame into the ring and writes it, waiting for a buffer's write before reusing it. */
async function feedFrames(
  stdin: Writable,
  sampler: FrameSampler,
  task: ClipTask,
  overlay: FrameOverlayer | null,
): Promise<void> {
  const ring = Array.from({ length: RING }, () => new Uint8Array(sampler.frameBytes));
  const writes: Promise<void>[] = [];
  // a failed write is kept, not left unhandled (that would kill the thread), and rethrown here
  const failures: unknown[] = [];
  const settle = (writing: Promise<void>) =>
    writing.catch((error: unknown) => {
      failures.push(error);
    });
  for (let index = 0; index < sampler.frameCount; index += 1) {
    const slot = index % RING;
    await writes[slot];
    if (failures.length > 0) throw failures[0];
    if (task.signal.aborted) return;
    const frame = sampler.frame(index, ring[slot]);
    // THE place for on-screen layers: blended into the frame in place, before it is written.
    overlay?.(frame, index);
    writes[slot] = settle(write(stdin, frame));
    if ((index + 1) % PROGRESS_EVERY === 0) task.progress((index + 1) / sampler.frameCount);
  }
  await Promise.all(writes);
  if (failures.length > 0) throw failures[0];
  stdin.end();
}

/** Resolves once the pipe has taken every byte of `chunk` (until then it must not change). */
function write(stdin: Writable, chunk: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    stdin.write(chunk, (error) => (error ? reject(error) : resolve()));
  });
}
