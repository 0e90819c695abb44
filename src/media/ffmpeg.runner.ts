/**
 * The one place that spawns FFmpeg or ffprobe. Builders (`ffmpeg-commands.ts`) decide *what* to
 * run; this decides *how*: no shell, its own process group (so a kill takes every thread and
 * child with it), a wall-clock timeout, abort on cancel, progress, and the tail of stderr for
 * the error message. Also: the media prober with its container allowlist, and temp directories
 * that are always removed.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import path from "node:path";
import type { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { AppError } from "../errors.js";
import type { Logger } from "../logger.js";
import { ALLOWED_DEMUXERS, probeArgs } from "./ffmpeg-commands.js";
import { childNiceness, lowerProcessPriority } from "./process-priority.js";
import { currentWorkDir } from "./work-dir.js";

const STDERR_TAIL_LINES = 40;
const MAX_STDOUT_BYTES = 8 * 1024 * 1024;
const ALLOWED_PROTOCOLS = new Set(["file", "pipe"]);
/** Lines FFmpeg writes for `-progress pipe:2`; parsed, never kept as diagnostics. */
const PROGRESS_LINE =
  /^(frame|fps|stream_\d+_\d+_q|bitrate|total_size|out_time(_ms|_us)?|dup_frames|drop_frames|speed|progress)=/;

export interface RunOptions {
  /** Wall-clock limit; the process group is killed and the run fails with TIMEOUT. */
  timeoutMs: number;
  /** Aborting kills the process group and fails the run with CANCELLED. */
  signal?: AbortSignal;
  onStderrLine?: (line: string) => void;
  /** Output time reached, in seconds (from `-progress pipe:2` or the `time=` stats). */
  onProgress?: (outTimeSeconds: number) => void;
  /**
   * Piped into the process's stdin (with backpressure); the process sees EOF when it ends. Or a
   * function that writes stdin itself and ends it (a producer that reuses its buffers must know
   * when each write has completed, which a piped stream does not tell).
   */
  stdin?: Readable | ((stdin: Writable) => Promise<void>);
  /** The process started: its pid, which is also its process group's id (it runs detached). */
  onSpawn?: (pid: number) => void;
  /**
   * Runs the process at this niceness (0–19) or lower: at least the niceness of the thread that
   * starts it (process-priority.ts), so that a job's FFmpeg runs yield to the API like its thread.
   */
  niceness?: number;
  /** Keep stdout (ffprobe JSON, capability lists); otherwise it is discarded. */
  captureStdout?: boolean;
  logger?: Logger;
}

export interface RunResult {
  stdout: string;
  stderrTail: string[];
  elapsedMs: number;
}

/**
 * Refuses an argv that could make FFmpeg reach beyond local files: every input needs a
 * `-protocol_whitelist` of file/pipe only, and no argument may be a URL of another scheme.
 */
export function assertSafeArgv(args: readonly string[]): void {
  for (const arg of args) {
    if (arg.includes("://")) throw unsafe(`URL in ffmpeg argument: ${arg}`);
    const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(arg)?.[1];
    if (scheme && !ALLOWED_PROTOCOLS.has(scheme.toLowerCase())) {
      throw unsafe(`protocol "${scheme}" is not allowed in ffmpeg arguments`);
    }
  }
  let whitelisted = false;
  let sawWhitelist = false;
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index]!;
    if (arg === "-protocol_whitelist") {
      const value = args[index + 1] ?? "";
      const protocols = value.split(",");
      if (!value || protocols.some((protocol) => !ALLOWED_PROTOCOLS.has(protocol))) {
        throw unsafe(`protocol whitelist "${value}" allows more than file/pipe`);
      }
      whitelisted = true;
      sawWhitelist = true;
      index += 1;
    } else if (arg === "-i") {
      if (!whitelisted) throw unsafe("an ffmpeg input lacks -protocol_whitelist");
      whitelisted = false; // input options apply to the next -i only
      index += 1;
    }
  }
  if (!sawWhitelist) throw unsafe("ffmpeg argv lacks -protocol_whitelist");
}

const unsafe = (message: string): AppError => new AppError("MEDIA_REJECTED", message);

/** Parses `HH:MM:SS.frac` (FFmpeg's out_time and time=); null for N/A or garbage. */
export function parseClock(value: string): number | null {
  const match = /^(-?)(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(value.trim());
  if (!match) return null;
  const total = Number(match[2]) * 3600 + Number(match[3]) * 60 + Number(match[4]);
  return match[1] ? -total : total;
}

/**
 * The process groups this thread's runs have started and not yet seen exit. A detached child is
 * not ended with us: when this thread (a media thread) or the process exits with
 * runs in flight — a shutdown past its deadline, a job pg-boss gave up waiting for — they are
 * killed, so no FFmpeg goes on writing into a work directory that is being removed.
 */
const liveGroups = new Set<number>();
let killOnExit = false;

function killLiveGroups(): void {
  for (const pid of liveGroups) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // gone
    }
  }
  liveGroups.clear();
}

/** Runs FFmpeg or ffprobe once. Rejects with TIMEOUT, CANCELLED, or PROVIDER_FAILED (exit ≠ 0). */
export function runFfmpeg(bin: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  try {
    assertSafeArgv(args);
  } catch (error) {
    return Promise.reject(error);
  }
  const { signal, logger } = options;
  const started = Date.now();
  const tool = path.basename(bin);
  if (signal?.aborted) return Promise.reject(cancelled(tool));

  return new Promise<RunResult>((resolve, reject) => {
    const child = spawn(bin, [...args], {
      shell: false,
      detached: true, // own process group: we kill -pid, never a name
      stdio: [options.stdin ? "pipe" : "ignore", options.captureStdout ? "pipe" : "ignore", "pipe"],
      windowsHide: true,
    });
    logger?.debug({ tool, pid: child.pid, args }, "ffmpeg started");

    const tail: string[] = [];
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let failure: AppError | null = null;
    let settled = false;

    const killGroup = () => {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
    };
    const fail = (error: AppError) => {
      if (failure) return;
      failure = error;
      killGroup();
    };

    const timer = setTimeout(
      () => fail(new AppError("TIMEOUT", `${tool} exceeded ${options.timeoutMs} ms`, { transient: true })),
      options.timeoutMs,
    );
    const onAbort = () => fail(cancelled(tool));
    signal?.addEventListener("abort", onAbort, { once: true });

    let partial = "";
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (chunk: string) => {
      const lines = (partial + chunk).split(/\r\n|\r|\n/);
      partial = lines.pop() ?? "";
      for (const line of lines) handleLine(line);
    });
    const handleLine = (line: string) => {
      if (!line) return;
      if (PROGRESS_LINE.test(line)) {
        if (line.startsWith("out_time=")) report(line.slice("out_time=".length));
        return;
      }
      const stats = /\btime=(\S+)/.exec(line);
      if (stats && /^(frame|size)=/.test(line)) report(stats[1]!); // the classic stats line
      tail.push(line);
      if (tail.length > STDERR_TAIL_LINES) tail.shift();
      options.onStderrLine?.(line);
    };
    const report = (clock: string) => {
      const value = parseClock(clock);
      if (value !== null && value >= 0) options.onProgress?.(value);
    };

    if (options.captureStdout) {
      child.stdout!.on("data", (chunk: Buffer) => {
        stdoutBytes += chunk.length;
        if (stdoutBytes > MAX_STDOUT_BYTES)
          fail(new AppError("MEDIA_REJECTED", `${tool} printed too much output`));
        else stdout.push(chunk);
      });
    }

    if (child.pid !== undefined) {
      liveGroups.add(child.pid);
      if (!killOnExit) {
        killOnExit = true;
        process.once("exit", killLiveGroups);
      }
      lowerProcessPriority(child.pid, childNiceness(options.niceness));
      options.onSpawn?.(child.pid);
    }

    const { stdin } = options;
    if (stdin) {
      // EPIPE when FFmpeg stops reading early is not the story: its exit status is.
      child.stdin!.on("error", () => {});
      const feeding = typeof stdin === "function" ? stdin(child.stdin!) : pipeline(stdin, child.stdin!);
      feeding.catch((error: unknown) => {
        if (failure) return;
        if (error instanceof AppError) fail(error);
        else if (!isPipeClosed(error)) {
          fail(
            new AppError("PROVIDER_FAILED", `feeding ${tool} failed: ${messageOf(error)}`, { cause: error }),
          );
        }
      });
    }

    const finish = (error: AppError | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      if (typeof stdin === "function") child.stdin?.destroy();
      else stdin?.destroy();
      if (error) {
        const level = error.code === "CANCELLED" ? "info" : "warn";
        logger?.[level]({ tool, code: error.code, stderr: tail.slice(-10) }, "ffmpeg failed");
        reject(error);
      } else {
        resolve({
          stdout: Buffer.concat(stdout).toString("utf8"),
          stderrTail: tail,
          elapsedMs: Date.now() - started,
        });
      }
    };

    child.on("error", (error) => {
      if (child.pid !== undefined) liveGroups.delete(child.pid);
      finish(
        failure ??
          new AppError("PROVIDER_FAILED", `${tool} could not start: ${error.message}`, { cause: error }),
      );
    });
    child.on("close", (code, killedBy) => {
      if (child.pid !== undefined) liveGroups.delete(child.pid);
      if (partial) handleLine(partial);
      if (failure) return finish(failure);
      if (code === 0) return finish(null);
      const how = code === null ? `was killed by ${killedBy}` : `exited with code ${code}`;
      finish(new AppError("PROVIDER_FAILED", `${tool} ${how}:\n${tail.join("\n")}`));
    });
  });
}

const cancelled = (tool: string): AppError => new AppError("CANCELLED", `${tool} cancelled`);

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

function isPipeClosed(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return code === "EPIPE" || code === "ERR_STREAM_PREMATURE_CLOSE" || code === "ERR_STREAM_DESTROYED";
}

/* ------------------------------------------------------------------------------------------ */
/* Probing                                                                                    */
/* ------------------------------------------------------------------------------------------ */

export interface MediaStreamInfo {
  type: "video" | "audio" | "subtitle" | "data" | "attachment" | "unknown";
  codec: string | null;
  width: number | null;
  height: number | null;
  /** Average frame rate (frames per second), null for non-video. */
  fps: number | null;
  frames: number | null;
  sampleRate: number | null;
  channels: number | null;
  profile: string | null;
  pixFmt: string | null;
  /** e.g. "1/15360"; clips joined by stream copy must agree on it. */
  timeBase: string | null;
  durationSeconds: number | null;
}

export interface MediaInfo {
  /** FFmpeg's demuxer name, e.g. "mov,mp4,m4a,3gp,3g2,mj2". */
  formatName: string;
  durationSeconds: number | null;
  byteSize: number | null;
  streams: MediaStreamInfo[];
}

/** Probes a file through the demuxer allowlist. A file FFmpeg refuses to open is MEDIA_REJECTED. */
export async function probeMedia(
  bin: string,
  file: string,
  options: { timeoutMs: number; signal?: AbortSignal; logger?: Logger },
): Promise<MediaInfo> {
  let result: RunResult;
  try {
    result = await runFfmpeg(bin, probeArgs(file), { ...options, captureStdout: true });
  } catch (error) {
    if (error instanceof AppError && error.code === "PROVIDER_FAILED") {
      throw new AppError("MEDIA_REJECTED", `not a readable media file (${path.basename(file)})`, {
        details: { reason: rejectionReason(error.message) },
        cause: error,
      });
    }
    throw error;
  }
  return parseProbeJson(result.stdout);
}

function rejectionReason(message: string): string {
  if (/not on whitelist/i.test(message)) return "container not allowed";
  return "unreadable";
}

const num = (value: unknown): number | null => {
  if (value === undefined || value === null || value === "" || value === "N/A") return null;
  const parsed = Number(value);
  return Number.isFinite(parsed) ? parsed : null;
};

const rate = (value: unknown): number | null => {
  if (typeof value !== "string") return null;
  const [n, d] = value.split("/").map(Number);
  if (!n || !d || !Number.isFinite(n / d)) return null;
  return n / d;
};

const STREAM_TYPES = new Set(["video", "audio", "subtitle", "data", "attachment"]);

/** Maps ffprobe's `-show_format -show_streams -of json` output. */
export function parseProbeJson(json: string): MediaInfo {
  let parsed: { format?: Record<string, unknown>; streams?: Record<string, unknown>[] };
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new AppError("MEDIA_REJECTED", "ffprobe printed no readable description");
  }
  const format = parsed.format;
  if (!format || typeof format.format_name !== "string") {
    throw new AppError("MEDIA_REJECTED", "ffprobe found no container");
  }
  const streams = (parsed.streams ?? []).map((stream): MediaStreamInfo => {
    const type = String(stream.codec_type ?? "unknown");
    return {
      type: (STREAM_TYPES.has(type) ? type : "unknown") as MediaStreamInfo["type"],
      codec: typeof stream.codec_name === "string" ? stream.codec_name : null,
      width: num(stream.width),
      height: num(stream.height),
      fps: type === "video" ? (rate(stream.avg_frame_rate) ?? rate(stream.r_frame_rate)) : null,
      frames: num(stream.nb_frames),
      sampleRate: num(stream.sample_rate),
      channels: num(stream.channels),
      profile: typeof stream.profile === "string" ? stream.profile : null,
      pixFmt: typeof stream.pix_fmt === "string" ? stream.pix_fmt : null,
      timeBase: typeof stream.time_base === "string" ? stream.time_base : null,
      durationSeconds: num(stream.duration),
    };
  });
  return {
    formatName: format.format_name,
    durationSeconds: num(format.duration),
    byteSize: num(format.size),
    streams,
  };
}

/**
 * Accepts only the containers we mean to read (ABUSE 16): MP4/MOV/M4A, Matroska/WebM, WAV, MP3,
 * AAC, FLAC and single images. An HLS playlist, a concat script, or anything else is refused.
 */
export function assertAllowedContainer(
  info: Pick<MediaInfo, "formatName">,
  allowed = ALLOWED_DEMUXERS,
): void {
  const names = info.formatName.split(",").map((name) => name.trim());
  if (!names.some((name) => allowed.includes(name))) {
    throw new AppError("MEDIA_REJECTED", `container "${info.formatName}" is not allowed`, {
      details: { formatName: info.formatName },
    });
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Temp directories                                                                           */
/* ------------------------------------------------------------------------------------------ */

/**
 * Runs `fn` with a fresh temp directory that is removed afterwards, whatever happens (ABUSE 17).
 * It sits in the process's work directory (`work-dir.ts`), so that what a killed process leaves
 * behind is removed at the next start (ABUSE 48).
 */
export async function withTempDir<T>(
  prefix: string,
  fn: (dir: string) => Promise<T>,
  options: { baseDir?: string } = {},
): Promise<T> {
  if (!/^[a-z0-9-]+$/i.test(prefix)) throw new Error(`temp dir prefix must be simple: ${prefix}`);
  const dir = await mkdtemp(
    path.join(options.baseDir ?? (await currentWorkDir()), prefix.endsWith("-") ? prefix : `${prefix}-`),
  );
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  }
}
