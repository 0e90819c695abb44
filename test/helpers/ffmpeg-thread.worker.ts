/**
 * A worker thread that lowers its priority and starts one long FFmpeg run through the runner,
 * then ends (process.exit) when told to, with the run still going: for the runner's tests of
 * thread priorities and of what happens to a run whose thread goes away.
 */
import { readFileSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import { runFfmpeg } from "../../src/media/ffmpeg.runner.js";
import { lowerThreadPriority } from "../../src/media/process-priority.js";

const { ffmpeg, args, niceness } = workerData as { ffmpeg: string; args: string[]; niceness: number };
const port = parentPort!;
const lowered = lowerThreadPriority(niceness);
/** Field 19 of /proc/…/stat is the nice value. */
const ownNice = Number(readFileSync("/proc/thread-self/stat", "utf8").split(") ")[1]!.split(" ")[16]);
port.on("message", () => process.exit(0));
runFfmpeg(ffmpeg, args, {
  timeoutMs: 120_000,
  onSpawn: (pid) => port.postMessage({ pid, lowered, ownNice }),
}).catch(() => {});
