/**
 * End to end with the embedded providers (issue 9, point 4): a real `propvid serve --role all`
 * renders a 7-scene video (28 s) from createVideoJob to SUCCEEDED, beside a baseline measured in
 * the same run: one FFmpeg encode of 840 1080p frames from a still at the house x264 settings,
 * the encoder's floor on this machine.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadConfig } from "../src/config.js";
import { runFfmpeg } from "../src/media/ffmpeg.runner.js";
import { resolveFfmpegBinaries } from "../src/media/ffmpeg-binaries.js";
import { normaliseClipArgs } from "../src/media/ffmpeg-commands.js";
import { fixturePhoto } from "../test/helpers/fixtures.js";
import { renderJob, startBenchServer } from "./bench-server.js";
import type { Benchmark } from "./benchmarks.js";

const GOAL_SECONDS = 30;

/** 28 s × 30 fps of one photo, 1920×1080, house settings: what x264 alone needs here. */
async function encoderFloor(): Promise<number> {
  const config = loadConfig();
  const { ffmpeg } = resolveFfmpegBinaries({
    ffmpegPath: config.ffmpegPath,
    ffprobePath: config.ffprobePath,
    searchPath: config.searchPath,
  });
  const scratch = mkdtempSync(path.join(os.tmpdir(), "propvid-e2e-bench-"));
  try {
    const outFile = path.join(scratch, "still.mp4");
    const args = normaliseClipArgs({
      inFile: fixturePhoto("living-01.jpg"),
      outFile,
      width: 1920,
      height: 1080,
      seconds: 28,
    });
    const result = await runFfmpeg(ffmpeg, args, { timeoutMs: 300_000 });
    return result.elapsedMs / 1000;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function run(): Promise<string[]> {
  const floor = await encoderFloor();
  const server = await startBenchServer("e2e-bench");
  try {
    const job = await renderJob(server);
    const stages = Object.entries(job.seen)
      .map(([status, at]) => `${status} ${at.toFixed(1)} s`)
      .join(", ");
    return [
      `end to end, 7 scenes, embedded providers, ${os.availableParallelism()} cores: ${job.seconds.toFixed(1)} s ` +
        `for a ${job.videoSeconds} s video (goal ≤ ${GOAL_SECONDS} s) ${job.seconds <= GOAL_SECONDS ? "OK" : "NOT MET"}`,
      `  baseline, one encode of 840 1080p frames from a still (house x264): ${floor.toFixed(1)} s; ` +
        `end to end / baseline ${(job.seconds / floor).toFixed(2)}×`,
      `  first seen by the client (polled every 100 ms): ${stages}`,
    ];
  } finally {
    await server.stop();
  }
}

export const renderEndToEndBenchmark: Benchmark = {
  name: "render-e2e",
  description: "7-scene render end to end in a --role all process vs one x264 encode of 840 frames",
  run,
};
