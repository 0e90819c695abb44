/**
 * What a local render costs in CPU time, which holds up on a loaded, shared machine where wall
 * clock does not (issue 9, point 4): two concurrent 4 s 1080p clips through the local provider in
 * this process, with the CPU seconds of each of its threads (/proc/self/task/N/stat) and of the
 * FFmpeg encoders (reaped children: cutime + cstime), beside the CPU of one x264 encode of the
 * same 240 frames from a still (the encoder's floor), and the main thread's event-loop use.
 * Linux only (procfs).
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadConfig } from "../src/config.js";
import type { CameraMove } from "../src/domain/vocabulary.js";
import { runFfmpeg } from "../src/media/ffmpeg.runner.js";
import { resolveFfmpegBinaries } from "../src/media/ffmpeg-binaries.js";
import { normaliseClipArgs } from "../src/media/ffmpeg-commands.js";
import { LocalVideoProvider } from "../src/providers/local/local-video.provider.js";
import { createMediaWorkerPool } from "../src/workers/media-tasks.js";
import { fixturePhoto } from "../test/helpers/fixtures.js";
import { readProcStat, threadsOf } from "../test/helpers/procfs.js";
import type { Benchmark } from "./benchmarks.js";

/** procfs counts CPU time in clock ticks of 1/100 s (USER_HZ) on every Linux the service runs on. */
const TICK_SECONDS = 0.01;

/** CPU seconds (user + system) of each thread of this process, by thread id. */
function threadCpu(): Map<string, { name: string; seconds: number }> {
  const threads = new Map<string, { name: string; seconds: number }>();
  for (const [id, { name, cpuTicks }] of threadsOf("self"))
    threads.set(String(id), { name, seconds: cpuTicks * TICK_SECONDS });
  return threads;
}

/** CPU seconds of this process's exited and reaped children (the encoders). */
function childrenCpu(): number {
  return readProcStat("/proc/self/stat")!.childrenCpuTicks * TICK_SECONDS;
}

async function run(): Promise<string[]> {
  const config = loadConfig();
  const { ffmpeg } = resolveFfmpegBinaries({
    ffmpegPath: config.ffmpegPath,
    ffprobePath: config.ffprobePath,
    searchPath: config.searchPath,
  });
  const scratch = mkdtempSync(path.join(os.tmpdir(), "propvid-cpu-bench-"));
  const workers = createMediaWorkerPool({ size: 2, niceness: config.renderNice });
  try {
    const provider = new LocalVideoProvider({ ffmpeg, workers });
    const clip = (name: string, cameraMove: CameraMove, first: string, last: string, seconds = 4) => ({
      firstImagePath: fixturePhoto(first),
      lastImagePath: fixturePhoto(last),
      cameraMove,
      prompt: "",
      seconds,
      width: 1920,
      height: 1080,
      fps: 30,
      outFile: path.join(scratch, `${name}.mp4`),
      workDir: scratch,
    });
    // warm-up: both threads started, sharp loaded
    await Promise.all([
      provider.render(clip("warm-0", "PUSH_IN", "living-01.jpg", "kitchen-01.jpg", 0.2)),
      provider.render(clip("warm-1", "PUSH_IN", "living-01.jpg", "kitchen-01.jpg", 0.2)),
    ]);

    const floorBefore = childrenCpu();
    await runFfmpeg(
      ffmpeg,
      normaliseClipArgs({
        inFile: fixturePhoto("living-01.jpg"),
        outFile: path.join(scratch, "still.mp4"),
        width: 1920,
        height: 1080,
        seconds: 8,
      }),
      { timeoutMs: 300_000 },
    );
    const floor = childrenCpu() - floorBefore;

    const before = threadCpu();
    const childrenBefore = childrenCpu();
    const processBefore = process.cpuUsage();
    const loopBefore = performance.eventLoopUtilization();
    const started = performance.now();
    await Promise.all([
      provider.render(clip("a", "TRUCK_LEFT", "dining-01.jpg", "dining-02.jpg")),
      provider.render(clip("b", "ORBIT_RIGHT", "bedroom-01.jpg", "bedroom-02.jpg")),
    ]);
    const wall = (performance.now() - started) / 1000;
    const usage = process.cpuUsage(processBefore);
    const loop = performance.eventLoopUtilization(loopBefore);
    const encoders = childrenCpu() - childrenBefore;
    const own = (usage.user + usage.system) / 1e6;
    const threads = [...threadCpu()]
      .map(([id, { name, seconds }]) => ({
        label: Number(id) === process.pid ? "main" : `${name}#${id}`,
        seconds: seconds - (before.get(id)?.seconds ?? 0),
      }))
      .filter((thread) => thread.seconds >= 0.05)
      .sort((a, b) => b.seconds - a.seconds);
    const main = threads.find((thread) => thread.label === "main")?.seconds ?? 0;
    return [
      `two concurrent 4 s 1080p clips (240 frames), RENDER_NICE ${config.renderNice}: ` +
        `node process ${own.toFixed(2)} CPU-s (main thread ${main.toFixed(2)}), encoders ${encoders.toFixed(2)} CPU-s, ` +
        `${(((own + encoders) / 240) * 1000).toFixed(1)} CPU-ms a frame`,
      `  threads ≥ 0.05 CPU-s: ${threads.map((t) => `${t.label} ${t.seconds.toFixed(2)}`).join(", ")} ` +
        "(threads that ended meanwhile, e.g. libvips' decode threads, count in the process total only)",
      `  baseline, one x264 encode of 240 1080p frames from a still: ${floor.toFixed(2)} CPU-s; ` +
        `render / baseline ${((own + encoders) / floor).toFixed(2)}× in CPU`,
      `  main thread event loop busy ${(loop.utilization * 100).toFixed(1)} %; wall ${wall.toFixed(1)} s ` +
        `on ${os.availableParallelism()} cores at load ${os.loadavg()[0]!.toFixed(1)} (wall clock is only indicative here)`,
    ];
  } finally {
    await workers.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}

export const renderCpuBenchmark: Benchmark = {
  name: "render-cpu",
  description: "CPU seconds per thread and per encoder for two concurrent 4 s 1080p local clips",
  run,
};
