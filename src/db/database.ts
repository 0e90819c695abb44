import path from "node:path";
import type { DataSource } from "typeorm";
import type { Config } from "../config.js";
import type { Logger } from "../logger.js";
import { createDataSource } from "./data-source.js";
import { startEmbeddedPostgres } from "./embedded-postgres.js";

export interface Database {
  url: string;
  dataSource: DataSource;
  /** Whether the server is the embedded one (started or attached by this process). */
  embedded: boolean;
  close(): Promise<void>;
}

/**
 * Connects to `DATABASE_URL`, or to the embedded PostgreSQL under the data dir (started if it
 * is not already running; stopped on close only if this process started it).
 */
export async function openDatabase(
  config: Config,
  logger: Logger,
  options: { poolSize?: number } = {},
): Promise<Database> {
  let url = config.databaseUrl;
  let stopEmbedded: (() => Promise<void>) | undefined;
  if (!url) {
    const server = await startEmbeddedPostgres({ dataDir: path.join(config.dataDir, "postgres"), logger });
    url = server.urlFor("propvid");
    stopEmbedded = server.owner ? () => server.stop() : undefined;
    await ensureDatabaseExists(server.url, "propvid");
  }
  const dataSource = createDataSource({ url, logger, poolSize: options.poolSize });
  try {
    await dataSource.initialize();
  } catch (error) {
    await stopEmbedded?.();
    throw error;
  }
  return {
    url,
    dataSource,
    embedded: stopEmbedded !== undefined || !config.databaseUrl,
    async close() {
      await dataSource
        .destroy()
        .catch((error: unknown) => logger.warn({ err: error }, "closing the pool failed"));
      await stopEmbedded?.();
    },
  };
}

async function ensureDatabaseExists(adminUrl: string, name: string): Promise<void> {
  const pg = (await import("pg")).default;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (found.rowCount === 0) {
      await client.query(`CREATE DATABASE "${name}"`).catch((error: { code?: string }) => {
        if (error.code !== "42P04") throw error; // created meanwhile by another process
      });
    }
  } finally {
    await client.end();
  }
}
