import { PgBoss } from "pg-boss";
import type { Logger } from "../logger.js";

/**
 * How often pg-boss looks for jobs whose worker stopped heart-beating (kill -9, lost machine) and
 * fails them into their retry. pg-boss does that in its queue monitor, which runs on the supervise
 * timer but only once per `monitorIntervalSeconds` (60 by default): with only the supervise interval
 * lowered, a dead worker's scene still waited about a minute (its 10 s heartbeat, then the next
 * monitor). With both at 5 s it is retried 10–15 s after its last heartbeat. The monitor's per-queue
 * statistics query comes with it every 5 s: a few milliseconds on our job tables.
 */
const SUPERVISE_INTERVAL_SECONDS = 5;

/**
 * pg-boss as every propvid process runs it: its own `pgboss` schema on our database, woken by
 * NOTIFY when jobs are queued, and monitoring often enough that a worker that died has its jobs
 * retried elsewhere within seconds, not a minute.
 */
export function createBoss(options: {
  url: string;
  applicationName: string;
  logger?: Logger;
  max?: number;
}): PgBoss {
  const boss = new PgBoss({
    connectionString: options.url,
    schema: "pgboss",
    application_name: options.applicationName,
    max: options.max ?? 5,
    useListenNotify: true,
    superviseIntervalSeconds: SUPERVISE_INTERVAL_SECONDS,
    monitorIntervalSeconds: SUPERVISE_INTERVAL_SECONDS,
  });
  boss.on("error", (error: unknown) => options.logger?.error({ err: error }, "pg-boss error"));
  return boss;
}
