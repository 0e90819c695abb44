/**
 * The jobs of a `serve --role all` process run in a child process of their own, so that the API
 * process's CPU belongs to requests. Rendering a job is more than its CPU-heavy media work (in
 * the media worker threads): storing clips and videos as large objects, hashing them, probing
 * and spawning FFmpeg (a spawn blocks its thread until the child has exec'd — up to a second on
 * a busy machine), and the garbage of all that. Measured with the API in the same thread, a
 * trivial query waited up to 1.4 s behind a render (bench/api-under-render.bench.ts). A thread
 * of the API's process was not apart enough: V8's platform threads (garbage collection for every
 * thread), libuv's pool and libvips' threads are the process's, ran the jobs' work at the API's
 * priority, and one process's threads share its memory map's lock.
 *
 * The child is a `worker` role of its own (job-process.main.ts: its own pool of connections,
 * pg-boss, LISTEN connection and media worker pool) on the database this process opened, like a
 * second process of the two-machine layout, so everything between the roles already goes through
 * Postgres (events, cancellations, webhook wake-ups). It lowers all its threads to `RENDER_NICE`
 * before it starts, and it stays in this process's session and process group: it competes for
 * the CPU inside this process's autogroup, where nice values count. Its logs go straight to
 * stdout; its metrics are summed into this process's `/metrics`. Should it crash, it is started
 * again (pg-boss hands its jobs to the new one once they expire, as after a worker process's
 * crash); should this process end, however it ends, the child exits too (its IPC channel closes).
 */
import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Config } from "./config.js";
import type { Logger } from "./logger.js";
import type { MetricsSnapshot } from "./services/metrics.service.js";
import { type ChildHandshake, launchChild } from "./workers/child-launch.js";

/** What the child is started with (its first message, structured-cloned). */
export interface JobProcessData {
  config: Config;
  databaseUrl: string;
  /** Schedules the hourly media sweep (what `serve` asks of its workers). */
  maintenance: boolean;
}

export type ToJobProcess =
  | { type: "start"; data: JobProcessData }
  | { type: "stop"; graceful: boolean }
  | { type: "metrics"; id: number };
export type FromJobProcess = ChildHandshake | { type: "metrics"; id: number; metrics: MetricsSnapshot };

/** How long a scrape waits for the child's metrics before leaving them out. */
const METRICS_TIMEOUT_MS = 2_000;
/** A crashed child is started again after this long. */
const RESTART_DELAY_MS = 1_000;
const ENTRY = fileURLToPath(new URL("./job-process.main.js", import.meta.url));

export class JobProcess {
  private child: ChildProcess;
  /** Whether `child` is running (false between a crash and its restart). */
  private running = true;
  private stopping = false;
  private nextRequest = 1;
  private readonly waiting = new Map<number, (metrics: MetricsSnapshot) => void>();

  private constructor(
    private readonly data: JobProcessData,
    private readonly logger: Logger,
    started: ChildProcess,
  ) {
    this.child = started;
    this.watch(started);
  }

  /** Starts the child and resolves once its workers are running (rejects if it cannot start). */
  static async start(data: JobProcessData, logger: Logger): Promise<JobProcess> {
    const child = await launch(data);
    return new JobProcess(data, logger, child);
  }

  /** The child's metrics (its registry), for this process's `/metrics`. */
  metrics(): Promise<MetricsSnapshot> {
    const id = this.nextRequest++;
    return new Promise<MetricsSnapshot>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error("the job process did not send its metrics"));
      }, METRICS_TIMEOUT_MS);
      this.waiting.set(id, (metrics) => {
        clearTimeout(timer);
        resolve(metrics);
      });
      if (!this.send({ type: "metrics", id })) {
        clearTimeout(timer);
        this.waiting.delete(id);
        reject(new Error("the job process is not running"));
      }
    });
  }

  /**
   * Stops the child's workers (graceful: running jobs get pg-boss's timeout to finish) and waits
   * for the child to end; not graceful, the child is killed.
   */
  async stop(graceful: boolean): Promise<void> {
    this.stopping = true;
    if (!this.running) return;
    const child = this.child;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    if (!graceful || !this.send({ type: "stop", graceful })) child.kill("SIGKILL");
    await exited;
  }

  /** Sends a message if the channel is open; whether it was sent. */
  private send(message: ToJobProcess): boolean {
    if (!this.child.connected) return false;
    this.child.send(message);
    return true;
  }

  private watch(child: ChildProcess): void {
    child.on("message", (message: FromJobProcess) => {
      if (message.type !== "metrics") return;
      this.waiting.get(message.id)?.(message.metrics);
      this.waiting.delete(message.id);
    });
    child.on("error", (error) => this.logger.error({ err: error }, "the job process failed"));
    child.once("exit", (code, signal) => {
      if (child !== this.child) return;
      this.running = false;
      if (this.stopping) return;
      this.logger.error(
        { code, signal },
        `the job process ended unexpectedly; starting it again in ${RESTART_DELAY_MS} ms`,
      );
      setTimeout(() => void this.restart(), RESTART_DELAY_MS).unref();
    });
  }

  private async restart(): Promise<void> {
    if (this.stopping) return;
    try {
      const child = await launch(this.data);
      if (this.stopping) {
        child.kill("SIGKILL");
        return;
      }
      this.child = child;
      this.running = true;
      this.watch(child);
      this.logger.info("the job process is running again");
    } catch (error) {
      this.logger.error(
        { err: error },
        `the job process could not start; trying again in ${RESTART_DELAY_MS} ms`,
      );
      setTimeout(() => void this.restart(), RESTART_DELAY_MS).unref();
    }
  }
}

/**
 * Starts a child and waits for its `ready` (or its failure); the settings come as its first
 * message, not in its argv or env.
 */
function launch(data: JobProcessData): Promise<ChildProcess> {
  return launchChild(ENTRY, { type: "start", data } satisfies ToJobProcess, "job process");
}
