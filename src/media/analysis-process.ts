/**
 * Where photos are decoded. A service process that answers HTTP decodes uploads in a child
 * process of its own, the image analysis process (analysis-process.main.ts); tools, tests and
 * worker processes decode in their own process, the pixel math in a media thread.
 *
 * Why a process: decoding is the one step of an upload that needs the whole photo at once.
 * libvips maps the file it decodes (a 45 MB camera JPEG is 45 MB of the decoding process's
 * resident memory while it runs), and a decoder — libjpeg, libpng, libwebp, libheif, fed bytes
 * from strangers — is the likeliest code in the service to crash or hang on a hostile file. In a
 * child, both stay out of the API process: its memory stays that of the uploads' streams (ABUSE
 * 41), a decoder that crashes or hangs ends one photo (REJECTED, `DECODER_FAILED`), not the
 * server, and the next photo gets a fresh process.
 *
 * - Started on the first photo (a process that never ingests never starts one), then kept; the
 *   app's stop ends it, and it ends itself when its parent is gone (its IPC channel closes).
 * - One photo at a time reaches it (the ingest service's bound), so its memory is one decode's.
 * - A photo that takes longer than `timeoutMs` has its process killed; a process that ends while
 *   decoding fails that photo; either way the next photo starts a new one.
 */
import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { AppError } from "../errors.js";
import type { Logger } from "../logger.js";
import { type ChildHandshake, launchChild } from "../workers/child-launch.js";
import type { MediaWorkerPool } from "../workers/media-tasks.js";
import { deserializeError, type SerializedError } from "../workers/worker-messages.js";
import { type AnalyzeImageOptions, analyzeImage, type ImageAnalysis } from "./image-analysis.js";

/** Decodes and measures a photo file (image-analysis.ts), wherever that runs. */
export interface PhotoAnalyser {
  analyse(file: string, options: Pick<AnalyzeImageOptions, "maxPixels">): Promise<ImageAnalysis>;
  /** Ends what it started (a no-op in process). */
  close(): Promise<void>;
}

export type ToAnalysisProcess =
  | { type: "start" }
  | { type: "analyse"; id: number; file: string; maxPixels: number };
export type FromAnalysisProcess =
  | ChildHandshake
  /** It has the photo and begins on it (so a crash from here on is the photo's decode). */
  | { type: "started"; id: number }
  | { type: "analysed"; id: number; analysis: ImageAnalysis }
  | { type: "refused"; id: number; error: SerializedError };

/** Longest a photo may take to decode and measure (a 45 MB JPEG takes ~0.3 s on one core). */
export const DEFAULT_ANALYSIS_TIMEOUT_MS = 60_000;
const ENTRY = fileURLToPath(new URL("./analysis-process.main.js", import.meta.url));

/** Analysis in the calling process: libvips's threads, and the pixel math in `workers` if given. */
export function inProcessAnalyser(workers?: MediaWorkerPool): PhotoAnalyser {
  return {
    analyse: (file, options) => analyzeImage(file, { ...options, workers }),
    close: async () => undefined,
  };
}

/**
 * What the child answered, as the caller would have seen it here: an AppError keeps its code and
 * details; anything else (a file gone, a bug) stays a plain Error, an internal failure.
 */
function refusalOf(error: SerializedError): Error {
  if (error.code) return deserializeError(error, "image analysis");
  const failure = new Error(error.message);
  if (error.stack) failure.stack = error.stack;
  return failure;
}

const stopping = () => new AppError("SERVICE_UNAVAILABLE", "The service is stopping", { transient: true });

interface Pending {
  id: number;
  file: string;
  maxPixels: number;
  resolve(analysis: ImageAnalysis): void;
  reject(error: Error): void;
  /** The process it was sent to, once sent. */
  child?: ChildProcess;
  /** The process said it began on it (a process that ends before that never saw it). */
  started: boolean;
  /** Sent again once already, after a process ended before beginning on it. */
  resent: boolean;
  timer?: NodeJS.Timeout;
}

/** The image analysis process, seen from its parent. */
export class AnalysisProcess implements PhotoAnalyser {
  /** The process starting or running, if any. */
  #child?: Promise<ChildProcess>;
  /** The process running, once started. */
  #current?: ChildProcess;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #closed = false;

  constructor(private readonly options: { logger: Logger; timeoutMs?: number }) {}

  /** The process's pid while it runs (tests, diagnostics). */
  async pid(): Promise<number | undefined> {
    return (await this.#child?.catch(() => undefined))?.pid;
  }

  analyse(file: string, { maxPixels }: { maxPixels: number }): Promise<ImageAnalysis> {
    return new Promise<ImageAnalysis>((resolve, reject) => {
      const pending: Pending = {
        id: this.#nextId++,
        file,
        maxPixels,
        resolve,
        reject,
        started: false,
        resent: false,
      };
      this.#pending.set(pending.id, pending);
      void this.#send(pending);
    });
  }

  /** Sends a photo to the running process (started if needed); its time counts from here. */
  async #send(pending: Pending): Promise<void> {
    let child: ChildProcess;
    try {
      child = await this.#running();
      // Ended since its last photo, its exit not yet handled: a new one.
      if (!child.connected) {
        this.#forget(child);
        child = await this.#running();
      }
    } catch (error) {
      this.#settle(pending.id)?.reject(error as Error);
      return;
    }
    if (this.#pending.get(pending.id) !== pending) return;
    pending.child = child;
    const timeoutMs = this.options.timeoutMs ?? DEFAULT_ANALYSIS_TIMEOUT_MS;
    pending.timer = setTimeout(() => {
      this.#settle(pending.id)?.reject(
        new AppError("MEDIA_REJECTED", "The image took too long to decode", {
          details: { reason: "DECODER_FAILED" },
        }),
      );
      this.options.logger.warn(
        { timeoutMs },
        "a photo's decode ran out of time; its analysis process is killed",
      );
      child.kill("SIGKILL");
    }, timeoutMs);
    child.send({
      type: "analyse",
      id: pending.id,
      file: pending.file,
      maxPixels: pending.maxPixels,
    } satisfies ToAnalysisProcess);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const child = await this.#child?.catch(() => undefined);
    this.#child = undefined;
    this.#current = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGKILL");
    await exited;
  }

  /** The running process, started if there is none (the first photo, or after one ended). */
  #running(): Promise<ChildProcess> {
    if (this.#closed) return Promise.reject(stopping());
    if (!this.#child) {
      const started = launchChild(
        ENTRY,
        { type: "start" } satisfies ToAnalysisProcess,
        "image analysis process",
        // `gc()`, for the collection it runs after each photo (analysis-process.main.ts).
        ["--expose-gc"],
      );
      this.#child = started;
      started.then(
        (child) => {
          this.#current = child;
          this.#watch(child);
        },
        () => {
          if (this.#child === started) this.#child = undefined;
        },
      );
    }
    return this.#child;
  }

  #watch(child: ChildProcess): void {
    child.on("message", (message: FromAnalysisProcess) => {
      if (message.type === "started") {
        const pending = this.#pending.get(message.id);
        if (pending) pending.started = true;
      } else if (message.type === "analysed") {
        const { analysis } = message;
        // A Buffer crosses the channel as a Uint8Array.
        const thumbnail = Buffer.from(
          analysis.thumbnail.buffer,
          analysis.thumbnail.byteOffset,
          analysis.thumbnail.byteLength,
        );
        this.#settle(message.id)?.resolve({ ...analysis, thumbnail });
      } else if (message.type === "refused") {
        this.#settle(message.id)?.reject(refusalOf(message.error));
      }
    });
    child.on("error", (error) =>
      this.options.logger.warn({ err: error }, "the image analysis process failed"),
    );
    child.once("exit", (code, signal) => {
      // Started again for the next photo, not now: nothing may need it for a while.
      this.#forget(child);
      let failed = 0;
      for (const [id, pending] of this.#pending) {
        if (pending.child !== child) continue;
        clearTimeout(pending.timer);
        if (!pending.started && !pending.resent && !this.#closed) {
          // It ended before it began on this photo (killed, or ended while idle and sent the
          // photo before its exit was seen): the photo is not at fault; it goes to a new one.
          pending.resent = true;
          pending.child = undefined;
          void this.#send(pending);
          continue;
        }
        failed++;
        this.#settle(id)?.reject(
          this.#closed
            ? stopping()
            : new AppError("MEDIA_REJECTED", "The image decoder failed on this image", {
                details: { reason: "DECODER_FAILED" },
              }),
        );
      }
      if (!this.#closed) {
        this.options.logger.warn(
          { code, signal, photos: failed },
          "the image analysis process ended; the next photo starts a new one",
        );
      }
    });
  }

  #forget(child: ChildProcess): void {
    if (this.#current !== child) return;
    this.#current = undefined;
    this.#child = undefined;
  }

  #settle(id: number): Pending | undefined {
    const pending = this.#pending.get(id);
    if (!pending) return undefined;
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    return pending;
  }
}
