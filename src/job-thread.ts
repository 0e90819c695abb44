/**
 * The jobs of a `serve --role all` process run in a thread of their own, so that the API's event
 * loop belongs to requests. Rendering a job is more than its CPU-heavy media work (already in
 * the media worker threads): storing clips and videos as large objects, hashing them, probing
 * and spawning FFmpeg (a spawn blocks its thread until the child has exec'd — up to a second on
 * a busy machine), and the garbage of all that. Measured with the API in the same thread, a
 * trivial query waited up to 1.4 s behind a render (bench/api-under-render.bench.ts).
 *
 * The thread is a `worker` role of its own (job-thread.worker.ts: its own pool of connections,
 * pg-boss, LISTEN connection and media worker pool) on the database this process opened, like a
 * second process of the two-machine layout, so everything between the roles already goes through
 * Postgres (events, cancellations, webhook wake-ups). Its logs go straight to stdout; its metrics
 * are summed into this process's `/metrics`. Should it crash, it is started again (pg-boss hands
 * its jobs to the new one once they expire, as after a worker process's crash).
 */
import { Worker } from "node:worker_threads";
import type { Config } from "./config.js";
import type { Logger } from "./logger.js";
import type { MetricsSnapshot } from "./services/metrics.service.js";

/** What the thread is started with (structured-cloned into it). */
export interface JobThreadData {
  config: Config;
  databaseUrl: string;
  /** Schedules the hourly media sweep (what `serve` asks of its workers). */
  maintenance: boolean;
}

export type ToJobThread = { type: "stop"; graceful: boolean } | { type: "metrics"; id: number };
export type FromJobThread =
  | { type: "ready" }
  | { type: "failed"; message: string }
  | { type: "metrics"; id: number; metrics: MetricsSnapshot };

/** How long a scrape waits for the thread's metrics before leaving them out. */
const METRICS_TIMEOUT_MS = 2_000;
/** A crashed thread is started again after this long. */
const RESTART_DELAY_MS = 1_000;

export class JobThread {
  private worker: Worker;
  /** Whether `worker` is running (false between a crash and its restart). */
  private running = true;
  private stopping = false;
  private nextRequest = 1;
  private readonly waiting = new Map<number, (metrics: MetricsSnapshot) => void>();

  private constructor(
    private readonly data: JobThreadData,
    private readonly logger: Logger,
    started: Worker,
  ) {
    this.worker = started;
    this.watch(started);
  }

  /** Starts the thread and resolves once its workers are running (rejects if it cannot start). */
  static async start(data: JobThreadData, logger: Logger): Promise<JobThread> {
    const worker = await launch(data);
    return new JobThread(data, logger, worker);
  }

  /** The thread's metrics (its registry), for this process's `/metrics`. */
  metrics(): Promise<MetricsSnapshot> {
    const id = this.nextRequest++;
    return new Promise<MetricsSnapshot>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error("the job thread did not send its metrics"));
      }, METRICS_TIMEOUT_MS);
      this.waiting.set(id, (metrics) => {
        clearTimeout(timer);
        resolve(metrics);
      });
      this.post({ type: "metrics", id });
    });
  }

  /**
   * Stops the thread's workers (graceful: running jobs get pg-boss's timeout to finish) and waits
   * for the thread to end; not graceful, the thread is terminated.
   */
  async stop(graceful: boolean): Promise<void> {
    this.stopping = true;
    if (!this.running) return;
    const worker = this.worker;
    const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
    if (graceful) this.post({ type: "stop", graceful });
    else await worker.terminate();
    await exited;
  }

  private post(message: ToJobThread): void {
    this.worker.postMessage(message);
  }

  private watch(worker: Worker): void {
    worker.on("message", (message: FromJobThread) => {
      if (message.type !== "metrics") return;
      this.waiting.get(message.id)?.(message.metrics);
      this.waiting.delete(message.id);
    });
    worker.on("error", (error) => this.logger.error({ err: error }, "the job thread crashed"));
    worker.once("exit", (code) => {
      if (worker !== this.worker) return;
      this.running = false;
      if (this.stopping) return;
      this.logger.error(
        { code },
        `the job thread ended unexpectedly; starting it again in ${RESTART_DELAY_MS} ms`,
      );
      setTimeout(() => void this.restart(), RESTART_DELAY_MS).unref();
    });
  }

  private async restart(): Promise<void> {
    if (this.stopping) return;
    try {
      const worker = await launch(this.data);
      if (this.stopping) {
        await worker.terminate();
        return;
      }
      this.worker = worker;
      this.running = true;
      this.watch(worker);
      this.logger.info("the job thread is running again");
    } catch (error) {
      this.logger.error(
        { err: error },
        `the job thread could not start; trying again in ${RESTART_DELAY_MS} ms`,
      );
      setTimeout(() => void this.restart(), RESTART_DELAY_MS).unref();
    }
  }
}

/** Starts a thread and waits for its `ready` (or its failure). */
function launch(data: JobThreadData): Promise<Worker> {
  const worker = new Worker(new URL("./job-thread.worker.js", import.meta.url), {
    name: "propvid-jobs",
    workerData: data,
  });
  return new Promise<Worker>((resolve, reject) => {
    const fail = (error: Error) => {
      worker.off("message", onMessage);
      void worker.terminate();
      reject(error);
    };
    const onMessage = (message: FromJobThread) => {
      if (message.type === "ready") {
        worker.off("message", onMessage);
        worker.off("error", fail);
        worker.off("exit", onExit);
        resolve(worker);
      } else if (message.type === "failed") {
        fail(new Error(`the job thread could not start: ${message.message}`));
      }
    };
    const onExit = (code: number) =>
      fail(new Error(`the job thread exited with code ${code} while starting`));
    worker.on("message", onMessage);
    worker.once("error", fail);
    worker.once("exit", onExit);
  });
}
