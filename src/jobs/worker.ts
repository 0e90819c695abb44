import type { Job, PgBoss } from "pg-boss";
import { isAppError } from "../errors.js";
import type { Logger } from "../logger.js";
import { QUEUE_POLICIES, type QueueName, type QueuePayloads } from "./queues.js";

export type JobHandler<N extends QueueName> = (
  payload: QueuePayloads[N],
  job: { id: string; retryCount: number },
) => Promise<void>;

export type JobHandlers = { [N in QueueName]: JobHandler<N> };

/**
 * Registers one handler per queue. Errors that are not transient (bad input) are marked so the
 * job is not retried: the handler records the failure and the job completes.
 */
export async function startWorkers(
  boss: PgBoss,
  handlers: JobHandlers,
  logger: Logger,
  config: { renderConcurrency: number },
): Promise<void> {
  const names = Object.keys(QUEUE_POLICIES) as QueueName[];
  const missing = names.filter((name) => typeof handlers[name] !== "function");
  const unknown = Object.keys(handlers).filter((name) => !names.includes(name as QueueName));
  if (missing.length || unknown.length) {
    throw new Error(
      `job registry mismatch: no handler for [${missing.join(", ")}], no queue for [${unknown.join(", ")}]`,
    );
  }
  for (const name of names) {
    const handler = handlers[name] as JobHandler<QueueName>;
    await boss.work(
      name,
      {
        localConcurrency: concurrencyOf(name, config),
        batchSize: 1,
        pollingIntervalSeconds: 0.5,
        // NOTIFY wakes a worker when a job is queued, but not when one of its own slots frees up
        // while jobs wait: without a short poll the next scene would sit for up to 30 s.
        notifyPollingIntervalSeconds: 0.5,
      },
      async (jobs: Job<object>[]) => {
        for (const job of jobs) {
          const log = logger.child({ queue: name, jobId: job.id });
          try {
            await handler(job.data as never, {
              id: job.id,
              retryCount: (job as { retryCount?: number }).retryCount ?? 0,
            });
          } catch (error) {
            if (isAppError(error) && !error.transient) {
              log.warn({ code: error.code, message: error.message }, "job failed permanently");
              return;
            }
            log.warn({ err: error }, "job failed; pg-boss will retry");
            throw error;
          }
        }
      },
    );
  }
}

export function concurrencyOf(name: QueueName, config: { renderConcurrency: number }): number {
  const value = QUEUE_POLICIES[name].localConcurrency;
  return typeof value === "function" ? value(config) : value;
}

/** Whether this was the last attempt pg-boss will make (so a failure is final). */
export function isLastAttempt(name: QueueName, retryCount: number): boolean {
  return retryCount >= QUEUE_POLICIES[name].retryLimit;
}
