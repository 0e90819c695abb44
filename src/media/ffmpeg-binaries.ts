/**
 * Which ffmpeg/ffprobe to run, and what that ffmpeg can do. Paths from configuration win; then
 * the system's (e.g. Debian's ffmpeg 5.1 on PATH); then the static builds shipped by
 * @ffmpeg-installer/@ffprobe-installer (an ffmpeg of 2018, ≈4.1: no `xfade`).
 */
import { accessSync, constants, statSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { AppError } from "../errors.js";
import { runFfmpeg } from "./ffmpeg.runner.js";
import { capabilityArgs } from "./ffmpeg-commands.js";

export interface FfmpegBinaries {
  ffmpeg: string;
  ffprobe: string;
}

export interface ResolveBinariesOptions {
  ffmpegPath?: string;
  ffprobePath?: string;
  /** The PATH to search (from config); without it only an explicit path or the bundled binaries. */
  searchPath?: string;
}

const require = createRequire(import.meta.url);

function isExecutable(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Finds `name` on a PATH-style list of directories, or returns null. */
export function findOnPath(name: string, searchPath: string | undefined): string | null {
  for (const dir of (searchPath ?? "").split(path.delimiter)) {
    if (!dir || !path.isAbsolute(dir)) continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return null;
}

/** The binary bundled by an npm installer package, or null when the platform has none. */
function bundled(pkg: "@ffmpeg-installer/ffmpeg" | "@ffprobe-installer/ffprobe"): string | null {
  try {
    const found = require(pkg) as { path?: unknown };
    return typeof found.path === "string" && isExecutable(found.path) ? found.path : null;
  } catch {
    return null; // the installers throw (a string) on unsupported platforms
  }
}

function resolveOne(
  name: "ffmpeg" | "ffprobe",
  explicit: string | undefined,
  searchPath: string | undefined,
  pkg: "@ffmpeg-installer/ffmpeg" | "@ffprobe-installer/ffprobe",
): string {
  if (explicit) {
    if (!path.isAbsolute(explicit) || !isExecutable(explicit)) {
      throw new AppError(
        "INTERNAL_SERVER_ERROR",
        `configured ${name} is not an executable file: ${explicit}`,
      );
    }
    return explicit;
  }
  const found = findOnPath(name, searchPath) ?? bundled(pkg);
  if (!found)
    throw new AppError("INTERNAL_SERVER_ERROR", `no ${name} binary found (set its path in configuration)`);
  return found;
}

/** Explicit path, else `ffmpeg`/`ffprobe` on PATH, else the bundled static binaries. */
export function resolveFfmpegBinaries(options: ResolveBinariesOptions = {}): FfmpegBinaries {
  // config.ts is the only reader of the environment and passes PATH in; none means bundled only.
  const searchPath = options.searchPath;
  return {
    ffmpeg: resolveOne("ffmpeg", options.ffmpegPath, searchPath, "@ffmpeg-installer/ffmpeg"),
    ffprobe: resolveOne("ffprobe", options.ffprobePath, searchPath, "@ffprobe-installer/ffprobe"),
  };
}

export interface FfmpegCapabilities {
  /** e.g. "5.1.6-0+deb12u1" or "N-47683-g0e8eb07980-static". */
  version: string;
  hasXfade: boolean;
  hasLoudnorm: boolean;
  hasLibx264: boolean;
}

const capabilityCache = new Map<string, Promise<FfmpegCapabilities>>();

/** Parses the outputs of `-version`, `-filters`, `-encoders`. */
export function parseCapabilities(version: string, filters: string, encoders: string): FfmpegCapabilities {
  const has = (list: string, name: string) => new RegExp(`^\\s*\\S+\\s+${name}\\s`, "m").test(list);
  return {
    version: /version\s+(\S+)/.exec(version)?.[1] ?? "unknown",
    hasXfade: has(filters, "xfade"),
    hasLoudnorm: has(filters, "loudnorm"),
    hasLibx264: has(encoders, "libx264"),
  };
}

/** What `bin` can do, asked once per binary per process. */
export function ffmpegCapabilities(
  bin: string,
  options: { timeoutMs?: number } = {},
): Promise<FfmpegCapabilities> {
  let cached = capabilityCache.get(bin);
  if (!cached) {
    const run = (kind: "version" | "filters" | "encoders") =>
      runFfmpeg(bin, capabilityArgs(kind), {
        timeoutMs: options.timeoutMs ?? 15_000,
        captureStdout: true,
      }).then((result) => result.stdout);
    cached = Promise.all([run("version"), run("filters"), run("encoders")]).then(
      ([version, filters, encoders]) => parseCapabilities(version, filters, encoders),
    );
    // a failed probe is not cached: the next call asks again
    cached.catch(() => capabilityCache.delete(bin));
    capabilityCache.set(bin, cached);
  }
  return cached;
}
