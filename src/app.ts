import { PgBoss } from "pg-boss";
import type { Config, Role } from "./config.js";
import { createServices, type Services } from "./container.js";
import { runMigrations } from "./db/data-source.js";
import { type Database, openDatabase } from "./db/database.js";
import { createHttpServer, type HttpServer } from "./http/server.js";
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
  const role = options.role ?? config.role;
  const database = await openDatabase(config, logger);
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

    const boss = new PgBoss({
      connectionString: database.url,
      schema: "pgboss",
      application_name: `propvid-${role}`,
      max: 5,
    });
    boss.on("error", (error: unknown) => logger.error({ err: error }, "pg-boss error"));
    await boss.start();
    cleanups.push(() => boss.stop({ graceful: true, timeout: 20_000 }));

    const services = createServices({ config, logger, dataSource: database.dataSource });
    const bootstrap = await services.tenants.bootstrapIfEmpty();

    let http: HttpServer | undefined;
    let address: string | undefined;
    if (role !== "worker") {
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
