import { createServer } from "node:net";
import type { PgBoss } from "pg-boss";
import type { DataSource } from "typeorm";
import type { Config, Role } from "./config.js";
import { createServices, type ProviderFactory, type Services } from "./container.js";
import { createDataSource, runMigrations } from "./db/data-source.js";
import { type Database, openDatabase } from "./db/database.js";
import { createHttpServer, type HttpServer } from "./http/server.js";
import { JobProcess } from "./job-process.js";
import { createBoss } from "./jobs/boss.js";
import { jobHandlers } from "./jobs/handlers.js";
import { createQueues } from "./jobs/queues.js";
import { type RunningParts, startWorkers } from "./jobs/worker.js";
import { createLogger, type Logger } from "./logger.js";
import { acquireWorkDir } from "./media/work-dir.js";
import { buildSchema } from "./schema/build-schema.js";

/** What a process runs: `none` is the database, pg-boss and the services without workers or HTTP. */
export type AppRole = Role | "none";

export interface StartAppOptions {
  config: Config;
  /** Defaults to a pino logger at `config.logLevel`. */
  logger?: Logger;
  /** Defaults to `config.role`. */
  role?: AppRole;
  /**
   * The database to use. Unset: `DATABASE_URL`, or the embedded PostgreSQL under the data dir
   * (started if needed). `{ url }`: a pool of our own on that database. `{ url, dataSource }`:
   * the caller's initialised data source, which `stop()` leaves open.
   */
  database?: { url: string; dataSource?: DataSource };
  /** Replaces the provider registry (tests and benchmarks inject their own providers). */
  providers?: ProviderFactory;
  /** For the api and all roles: listen on `config.host:config.port` (default), or only build the server (`inject`). */
  listen?: boolean;
  /** Runs pending migrations first (default true; a no-op on an up-to-date database). */
  migrate?: boolean;
  /** Creates the `default` tenant and its admin key when there is no tenant yet (`serve`). */
  bootstrap?: boolean;
  /** Schedules the hourly media sweep (`serve` with workers). */
  maintenance?: boolean;
  /** Size of the TypeORM pool when this call opens it. Media streams hold a connection while they read. */
  poolSize?: number;
  /** Size of pg-boss's own pool. */
  bossPoolSize?: number;
  /**
   * Where the `all` role runs its jobs: in this process (default), or in a job process of its
   * own (`serve`: job-process.ts), so that this process's CPU serves requests first.
   */
  jobs?: "here" | "process";
  /** `part`: this app is a job process, whose metrics its parent's `/metrics` sums in. */
  metricsScope?: "process" | "part";
  /**
   * Where uploaded photos are decoded: in the image analysis process (the default of the api and
   * all roles: media/analysis-process.ts) or in this one (the default of the others).
   */
  analysis?: "process" | "here";
}

export interface RunningApp {
  /** The configuration in effect (with the concrete port when `PORT=0`). */
  config: Config;
  services: Services;
  database: { url: string; dataSource: DataSource };
  boss: PgBoss;
  http?: HttpServer;
  /** Where the HTTP server listens (api and all roles with `listen`). */
  address?: string;
  /** The admin key created on first start, if this start created it (`bootstrap`). */
  bootstrapKey?: string;
  /** Undoes the start in reverse order. `graceful: false` stops pg-boss without waiting for running jobs. */
  stop(options?: { graceful?: boolean }): Promise<void>;
  /** What is started and not yet stopped, in stop order (e.g. for a shutdown that ran out of time). */
  openParts(): string[];
}

/**
 * The one boot sequence of every propvid process (`serve`, `render`, tests, benchmarks):
 * database → migrations → pg-boss → queues → services → workers → HTTP. `stop()` undoes it in
 * reverse; a failure half-way undoes what was started and rethrows.
 */
export async function startApp(options: StartAppOptions): Promise<RunningApp> {
  const role = options.role ?? options.config.role;
  const serves = role === "api" || role === "all";
  const listen = serves && options.listen !== false;
  const config = listen ? await withConcretePort(options.config) : options.config;
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const poolSize = options.poolSize ?? 25;

  // Each part started, with a name saying what `stop()` still has to close.
  const cleanups: { name: string | (() => string); stop: (graceful: boolean) => Promise<void> }[] = [];
  const stop = async ({ graceful = true }: { graceful?: boolean } = {}) => {
    while (cleanups.length > 0) {
      const part = cleanups.at(-1)!;
      await part
        .stop(graceful)
        .catch((error: unknown) =>
          logger.error({ err: error, part: openParts()[0] }, "shutdown step failed"),
        );
      cleanups.pop();
    }
  };
  const openParts = () =>
    cleanups.map((part) => (typeof part.name === "string" ? part.name : part.name())).reverse();
  try {
    if (role !== "none") {
      const workDir = await acquireWorkDir(config.workDir, logger);
      cleanups.push({ name: "work directory", stop: () => workDir.close() });
    }
    const database = await connect(options.database, config, logger, poolSize);
    cleanups.push({ name: "database", stop: () => database.close() });
    if (options.migrate !== false) {
      const applied = await runMigrations(database.dataSource);
      if (applied.length > 0) logger.info({ applied }, "migrations applied");
    }

    const boss = createBoss({
      url: database.url,
      applicationName: `propvid-${role}`,
      logger,
      max: options.bossPoolSize,
    });
    await boss.start();
    // Running jobs get most of the shutdown deadline to finish; what is left closes the rest.
    // A stop that does not wait for them, or whose wait ran out, interrupts what still runs: its
    // FFmpeg children are killed and the part goes back to pg-boss (no child outlives the stop).
    const jobsTimeout = Math.max(1_000, Math.round(config.shutdownTimeoutMs * 0.6));
    let parts: RunningParts | undefined;
    cleanups.push({
      name: () => `job queue (pg-boss and ${parts?.size ?? 0} running job parts)`,
      stop: async (graceful) => {
        await boss.stop({ graceful, timeout: graceful ? jobsTimeout : 5_000 });
        await parts?.interrupt();
      },
    });
    await createQueues(boss);

    const services = createServices({
      config,
      logger,
      dataSource: database.dataSource,
      boss,
      providers: options.providers,
      metricsScope: options.metricsScope,
      // A process that answers HTTP decodes uploads in a child (ABUSE 41: its memory stays flat).
      analysis: options.analysis ?? (serves ? "process" : "here"),
    });
    cleanups.push({ name: "media worker threads", stop: () => services.workers.close() });
    cleanups.push({ name: "image analysis process", stop: () => services.analyser.close() });
    // The one LISTEN connection: job events for this API's subscribers, webhook wake-ups and
    // cancellations for this worker.
    await services.notifications.start();
    cleanups.push({ name: "notification listener", stop: () => services.notifications.stop() });
    if (role === "all" && options.jobs === "process") {
      const jobs = await JobProcess.start(
        { config, databaseUrl: database.url, maintenance: options.maintenance ?? false },
        logger,
      );
      cleanups.push({ name: "job process (its running jobs)", stop: (graceful) => jobs.stop(graceful) });
      services.metrics.addPart(() => jobs.metrics());
    } else if (role === "worker" || role === "all") {
      parts = await startWorkers(boss, jobHandlers(services), logger, config, () =>
        database.dataSource.query("SELECT 1"),
      );
      // Admits a tenant's waiting jobs when one of its slots frees (any process), and sweeps
      // once a minute for a wake-up nobody heard.
      const stopAdmitting = services.admission.watch(services.notifications);
      cleanups.push({ name: "job admission watch", stop: async () => stopAdmitting() });
      await boss
        .schedule("video.admit", "* * * * *", {})
        .catch((error: unknown) => logger.warn({ err: error }, "could not schedule the admission sweep"));
      if (options.maintenance) {
        await boss
          .schedule("media.sweep", "17 * * * *", {})
          .catch((error: unknown) => logger.warn({ err: error }, "could not schedule the media sweep"));
      }
    }
    const bootstrap = options.bootstrap ? await services.tenants.bootstrapIfEmpty() : undefined;

    let http: HttpServer | undefined;
    let address: string | undefined;
    if (serves) {
      // The one LISTEN connection of this API process: job events from any worker reach its subscribers.
      await services.jobEvents.start();
      cleanups.push({ name: "job event listener", stop: () => services.jobEvents.stop() });
      const server = await createHttpServer({ services, schema: await buildSchema() });
      http = server;
      cleanups.push({
        name: () => `HTTP server (${server.inFlight()} requests in flight)`,
        stop: () => server.close(),
      });
      if (listen) address = await server.listen();
      else await server.app.ready();
    }
    return {
      config,
      services,
      database: { url: database.url, dataSource: database.dataSource },
      boss,
      http,
      address,
      bootstrapKey: bootstrap?.key,
      stop,
      openParts,
    };
  } catch (error) {
    await stop({ graceful: false });
    throw error;
  }
}

/** The database the options name, or the configured one; `close()` releases only what this opened. */
async function connect(
  given: StartAppOptions["database"],
  config: Config,
  logger: Logger,
  poolSize: number,
): Promise<Pick<Database, "url" | "dataSource" | "close">> {
  if (!given) return await openDatabase(config, logger, { poolSize });
  if (given.dataSource) return { url: given.url, dataSource: given.dataSource, close: async () => {} };
  const dataSource = createDataSource({ url: given.url, logger, poolSize });
  await dataSource.initialize();
  return { url: given.url, dataSource, close: () => dataSource.destroy() };
}

/**
 * `PORT=0` means "any free port"; signed URLs need the real one, so pick it before anything is
 * built from the config. (Another process could take it in between: fine for tests and demos.)
 */
async function withConcretePort(config: Config): Promise<Config> {
  if (config.port !== 0) return config;
  const port = await new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, config.host, () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;
  return Object.freeze({
    ...config,
    port,
    publicBaseUrl: config.publicBaseUrlConfigured ? config.publicBaseUrl : `http://${host}:${port}`,
  });
}
