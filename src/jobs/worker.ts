import { setTimeout as sleep } from "node:timers/promises";
import type { Job, PgBoss } from "pg-boss";
import { isDatabaseUnavailable } from "../db/unavailable.js";
import { isAppError } from "../errors.js";
import type { Logger } from "../logger.js";
import { PartRun } from "./part-run.js";
import { QUEUE_POLICIES, type QueueName, type QueuePayloads } from "./queues.js";

export type JobHandler<N extends QueueName> = (payload: QueuePayloads[N], run: PartRun) => Promise<void>;

export type JobHandlers = { [N in QueueName]: JobHandler<N> };

/**
 * Registers one handler per queue and settles every failure in one place: the run's error is
 * classified (cancelled, final, retry); the part's failure transition, if the handler registered
 * one, records it; only a retry goes back to pg-boss. A handler with no failure transition
 * leaves a failure to pg-boss (retried, then dead-lettered), except bad input, which is final.
 *
 * A run that failed because the database went away first waits for it (`databaseUp`, polled
 * with backoff for up to DATABASE_WAIT_MS): recording the failure, and pg-boss's own bookkeeping
 * of the retry, need it — handed back while it is still down, the job would stay "active" until
 * pg-boss expires it, a minute or more later.
 */
export async function startWorkers(
  boss: PgBoss,
  handlers: JobHandlers,
  logger: Logger,
  config: { renderConcurrency: number },
  databaseUp: () => Promise<unknown>,
): Promise<RunningParts> {
  const names = Object.keys(QUEUE_POLICIES) as QueueName[];
  const missing = names.filter((name) => typeof handlers[name] !== "function");
  const unknown = Object.keys(handlers).filter((name) => !names.includes(name as QueueName));
  if (missing.length || unknown.length) {
    throw new Error(
      `job registry mismatch: no handler for [${missing.join(", ")}], no queue for [${unknown.join(", ")}]`,
    );
  }
  const running = new RunningParts();
  for (const name of names) {
    const handler = handlers[name] as JobHandler<QueueName>;
    await boss.work(
      name,
      {
        localConcurrency: concurrencyOf(name, config),
        ...tenantConcurrencyOf(name),
        batchSize: 1,
        pollingIntervalSeconds: 0.5,
        // NOTIFY wakes a worker when a job is queued, but not when one of its own slots frees up
        // while jobs wait: without a short poll the next scene would sit for up to 30 s.
        notifyPollingIntervalSeconds: 0.5,
      },
      async (jobs: Job<object>[]) => {
        for (const job of jobs) {
          const retryCount = (job as { retryCount?: number }).retryCount ?? 0;
          const run = new PartRun(retryCount, isLastAttempt(name, retryCount));
          // pg-boss aborts a job's signal when it takes the job back while the handler runs: at
          // its stop (having failed the job into its retry), when the heartbeat finds the claim
          // gone, past the job's expiry. The run stops then too, children and all.
          const taken = job.signal;
          const interrupt = () => run.interrupt();
          taken?.addEventListener("abort", interrupt, { once: true });
          if (taken?.aborted) run.interrupt();
          const done = (async () => {
            try {
              await handler(job.data as never, run);
            } catch (error) {
              // a shutdown does not wait for a database that went away
              if (isDatabaseUnavailable(error) && !run.interrupted) await untilUp(databaseUp, logger);
              await settle(name, job.id, run, error, logger);
            } finally {
              taken?.removeEventListener("abort", interrupt);
              run.stop();
            }
          })();
          await running.track(run, done);
        }
      },
    );
  }
  return running;
}

/** How long `interrupt()` waits for interrupted parts to kill their children and settle. */
const INTERRUPT_WAIT_MS = 5_000;

/**
 * The part runs in progress in this process. pg-boss's stop takes back the jobs still running
 * when it ends (a stop without waiting, or a graceful one whose wait ran out) and aborts their
 * signals, but does not wait for their handlers: `interrupt()` after it stops any run still
 * going and waits for them to settle, so no FFmpeg (killed through the run's signal) outlives
 * the process's stop.
 */
export class RunningParts {
  readonly #runs = new Map<PartRun, Promise<void>>();

  get size(): number {
    return this.#runs.size;
  }

  async track(run: PartRun, done: Promise<void>): Promise<void> {
    this.#runs.set(run, done);
    try {
      await done;
    } finally {
      this.#runs.delete(run);
    }
  }

  /** Interrupts every run in progress and waits (up to 5 s) for them to settle. */
  async interrupt(): Promise<void> {
    if (this.#runs.size === 0) return;
    for (const run of this.#runs.keys()) run.interrupt();
    const settledAll = Promise.allSettled([...this.#runs.values()]);
    await Promise.race([settledAll, sleep(INTERRUPT_WAIT_MS, undefined, { ref: false })]);
  }
}

/** How long a failed run waits for the database before handing its failure to pg-boss anyway. */
const DATABASE_WAIT_MS = 60_000;

async function untilUp(databaseUp: () => Promise<unknown>, logger: Logger): Promise<void> {
  const deadline = Date.now() + DATABASE_WAIT_MS;
  for (let delay = 250; Date.now() < deadline; delay = Math.min(delay * 2, 2_000)) {
    try {
      await databaseUp();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
  logger.warn(
    { waitedMs: DATABASE_WAIT_MS },
    "the database is still unreachable; leaving the job to pg-boss",
  );
}

async function settle(
  name: QueueName,
  id: string,
  run: PartRun,
  error: unknown,
  logger: Logger,
): Promise<void> {
  const log = logger.child({ queue: name, jobId: id });
  const verdict = await run.failed(error);
  if (verdict === "cancelled") {
    log.info("job stopped: its video job was cancelled");
    return;
  }
  if (verdict === "retry" && run.interrupted) {
    log.info("job interrupted by the shutdown; pg-boss will retry it");
    throw run.signal.reason;
  }
  const permanent = isAppError(error) && !error.transient;
  if (verdict === "retry" || (!run.recordsFailures && !permanent)) {
    log.warn({ err: error }, "job failed; pg-boss will retry");
    throw error;
  }
  log.warn({ err: error }, "job failed permanently");
}

export function concurrencyOf(name: QueueName, config: { renderConcurrency: number }): number {
  const value = QUEUE_POLICIES[name].localConcurrency;
  return typeof value === "function" ? value(config) : value;
}

/** pg-boss's per-group limit, for a queue that caps what one tenant takes of its slots. */
function tenantConcurrencyOf(name: QueueName): { localGroupConcurrency?: number } {
  const value = QUEUE_POLICIES[name].localTenantConcurrency;
  return value === undefined ? {} : { localGroupConcurrency: value };
}

/** Whether this was the last attempt pg-boss will make (so a failure is final). */
export function isLastAttempt(name: QueueName, retryCount: number): boolean {
  return retryCount >= QUEUE_POLICIES[name].retryLimit;
}
