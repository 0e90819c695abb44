/**
 * The job process's entry (see job-process.ts): a `worker` role on the database its parent
 * opened. It waits for its settings (`start`), lowers its priority, answers `ready` once its
 * workers run, the metrics of its registry when asked, and `stop` by stopping like a worker
 * process would on SIGTERM, then ends. Signals are its parent's to handle: a Ctrl-C reaches the
 * whole process group, and the parent stops it in its own shutdown order. If the parent is gone
 * (its IPC channel closed: a kill -9, a crash), it dies at once; its running jobs are retried
 * like a dead worker's.
 */
import { type RunningApp, startApp } from "./app.js";
import type { FromJobProcess, JobProcessData, ToJobProcess } from "./job-process.js";
import { createLogger, stdoutLogSink } from "./logger.js";
import { lowerOwnProcessPriority } from "./media/process-priority.js";

/** How long the last log lines may take to reach stdout when the process ends. */
const FLUSH_MS = 1_000;

if (!process.send) throw new Error("job-process.main.js runs as a child with an IPC channel");
const post = (message: FromJobProcess) => {
  if (process.connected) process.send?.(message);
};
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => undefined);
// The parent is gone: die with it, as a thread of it would have, and as prctl's PDEATHSIG would
// make a child die (process.exit would first wait for the media threads to stop: seconds).
process.on("disconnect", () => process.kill(process.pid, "SIGKILL"));

const data = await new Promise<JobProcessData>((resolve) => {
  const onStart = (message: ToJobProcess) => {
    if (message.type !== "start") return;
    process.off("message", onStart);
    resolve(message.data);
  };
  process.on("message", onStart);
});
const { config, databaseUrl, maintenance } = data;
// Everything this process does (storing, probing, spawning, garbage collection, the media
// threads it starts) yields to the API process's requests, like the rendering does: every thread
// it has now is lowered, and the threads it starts later inherit it.
lowerOwnProcessPriority(config.renderNice);
const logger = createLogger({ level: config.logLevel }).child({ process: "jobs" });

let app: RunningApp;
try {
  app = await startApp({
    config,
    logger,
    role: "worker",
    database: { url: databaseUrl },
    migrate: false, // the parent has migrated
    maintenance,
    metricsScope: "part",
  });
} catch (error) {
  logger.error({ err: error }, "the job process could not start");
  post({ type: "failed", message: error instanceof Error ? error.message : String(error) });
  await stdoutLogSink().flush(FLUSH_MS);
  process.exit(1);
}

process.on("message", (message: ToJobProcess) => {
  switch (message.type) {
    case "metrics":
      void app.services.metrics
        .snapshot()
        .then((metrics) => post({ type: "metrics", id: message.id, metrics }))
        .catch((error: unknown) => logger.warn({ err: error }, "could not read the job process's metrics"));
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
