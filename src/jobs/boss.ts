import { PgBoss } from "pg-boss";
import type { Logger } from "../logger.js";

/**
 * pg-boss as every propvid process runs it: its own `pgboss` schema on our database, woken by
 * NOTIFY when jobs are queued, and supervising every 10 s so a worker that died (kill -9, lost
 * machine) has its jobs failed by heartbeat and retried elsewhere within seconds, not a minute.
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
    superviseIntervalSeconds: 10,
  });
  boss.on("error", (error: unknown) => options.logger?.error({ err: error }, "pg-boss error"));
  return boss;
}
