/**
 * The job thread's entry (see job-thread.ts): a `worker` role on the database its process
 * opened. It answers `ready` once its workers run, the metrics of its registry when asked, and
 * `stop` by stopping like a worker process would on SIGTERM, then ends.
 */
import { parentPort, workerData } from "node:worker_threads";
import { type RunningApp, startApp } from "./app.js";
import type { FromJobThread, JobThreadData, ToJobThread } from "./job-thread.js";
import { createLogger, stdoutLogSink } from "./logger.js";
import { lowerThreadPriority } from "./media/process-priority.js";

/** How long the last log lines may take to reach stdout when the thread ends. */
const FLUSH_MS = 1_000;

const port = parentPort;
if (!port) throw new Error("job-thread.worker.js runs as a worker thread");
const { config, databaseUrl, maintenance } = workerData as JobThreadData;
const logger = createLogger({ level: config.logLevel }).child({ thread: "jobs" });
const post = (message: FromJobThread) => port.postMessage(message);
// Storing, probing and spawning for jobs yield to the API's event loop, like the rendering does
// (the media threads this thread starts inherit the priority).
lowerThreadPriority(config.renderNice);

let app: RunningApp;
try {
  app = await startApp({
    config,
    logger,
    role: "worker",
    database: { url: databaseUrl },
    migrate: false, // the main thread has migrated
    maintenance,
    metricsScope: "thread",
  });
} catch (error) {
  logger.error({ err: error }, "the job thread could not start");
  post({ type: "failed", message: error instanceof Error ? error.message : String(error) });
  await stdoutLogSink().flush(FLUSH_MS);
  process.exit(1);
}

port.on("message", (message: ToJobThread) => {
  switch (message.type) {
    case "metrics":
      void app.services.metrics
        .snapshot()
        .then((metrics) => post({ type: "metrics", id: message.id, metrics }))
        .catch((error: unknown) => logger.warn({ err: error }, "could not read the job thread's metrics"));
      return;
    case "stop":
      void app
        .stop({ graceful: message.graceful })
        .then(() => stdoutLogSink().flush(FLUSH_MS))
        .finally(() => process.exit(0));
      return;
  }
});
post({ type: "ready" });
