import { createServer } from "node:net";
import type { PgBoss } from "pg-boss";
import type { Config, Role } from "./config.js";
import { createServices, type Services } from "./container.js";
import { runMigrations } from "./db/data-source.js";
import { type Database, openDatabase } from "./db/database.js";
import { createHttpServer, type HttpServer } from "./http/server.js";
import { createBoss } from "./jobs/boss.js";
import { jobHandlers } from "./jobs/handlers.js";
import { createQueues } from "./jobs/queues.js";
import { startWorkers } from "./jobs/worker.js";
import type { Logger } from "./logger.js";
import { buildSchema } from "./schema/build-schema.js";

export interface RunningApp {
  services: Services;
  database: Database;
  boss: PgBoss;
  http?: HttpServer;
  /** Where the HTTP server listens (api and all roles). */
  address?: string;
  /** The admin key created on first start, if this start created it. */
  bootstrapKey?: string;
  stop(): Promise<void>;
}

/**
 * Starts propvid: database (embedded unless DATABASE_URL), migrations, pg-boss, and — for the
 * api and all roles — the HTTP server. `stop()` undoes it in reverse order, gracefully.
 */
export async function startApp(
  config: Config,
  logger: Logger,
  options: { role?: Role } = {},
): Promise<RunningApp> {
  config = await withConcretePort(config);
  const role = options.role ?? config.role;
  // Media streams hold a connection while they read; leave room for the API beside them.
  const database = await openDatabase(config, logger, { poolSize: 25 });
  const cleanups: (() => Promise<void>)[] = [() => database.close()];
  const stopAll = async () => {
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((error: unknown) => logger.error({ err: error }, "shutdown step failed"));
    }
    cleanups.length = 0;
  };
  try {
    const applied = await runMigrations(database.dataSource);
    if (applied.length > 0) logger.info({ applied }, "migrations applied");

    const boss = createBoss({ url: database.url, applicationName: `propvid-${role}`, logger });
    await boss.start();
    cleanups.push(() => boss.stop({ graceful: true, timeout: 20_000 }));

    await createQueues(boss);
    const services = createServices({ config, logger, dataSource: database.dataSource, boss });
    // The one LISTEN connection: job events for this API's subscribers, webhook wake-ups for this worker.
    await services.notifications.start();
    cleanups.push(() => services.notifications.stop());
    if (role !== "api") {
      await startWorkers(boss, jobHandlers(services), logger, config);
      await boss
        .schedule("media.sweep", "17 * * * *", {})
        .catch((error: unknown) => logger.warn({ err: error }, "could not schedule the media sweep"));
    }
    const bootstrap = await services.tenants.bootstrapIfEmpty();

    let http: HttpServer | undefined;
    let address: string | undefined;
    if (role !== "worker") {
      // The one LISTEN connection of this API process: job events from any worker reach its subscribers.
      await services.jobEvents.start();
      cleanups.push(() => services.jobEvents.stop());
      const schema = await buildSchema();
      http = await createHttpServer({ services, schema });
      address = await http.listen();
      cleanups.push(() => http!.close());
    }
    return { services, database, boss, http, address, bootstrapKey: bootstrap?.key, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
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
