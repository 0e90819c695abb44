import { randomBytes } from "node:crypto";
import path from "node:path";
import pg from "pg";
import type { DataSource } from "typeorm";
import { startApp } from "../../src/app.js";
import { createDataSource } from "../../src/db/data-source.js";
import { startEmbeddedPostgres } from "../../src/db/embedded-postgres.js";
import { type Logger, silentLogger } from "../../src/logger.js";
import { testConfig } from "./config.js";

/**
 * One PostgreSQL server for the whole test run (scripts/test.mjs starts it), and one fresh
 * database per test file, cloned from a migrated template so each file starts clean and fast.
 */

const TEMPLATE = "propvid_test_template";

export interface TestDatabaseServer {
  /** Environment for the test processes. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** Starts (or uses) the server and builds the migrated template database. */
export async function prepareTestDatabaseServer(options: {
  scratchDir: string;
  logger: Logger;
  databaseUrl?: string;
}): Promise<TestDatabaseServer> {
  let adminUrl = options.databaseUrl;
  let stop = async () => {};
  if (!adminUrl) {
    const server = await startEmbeddedPostgres({
      dataDir: path.join(options.scratchDir, "postgres"),
      logger: options.logger,
      // Throwaway data: durability buys nothing here and costs seconds.
      settings: { fsync: "off", synchronous_commit: "off", full_page_writes: "off" },
    });
    adminUrl = server.url;
    stop = () => server.stop();
  }
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE}`);
    await admin.query(`CREATE DATABASE ${TEMPLATE}`);
  } finally {
    await admin.end();
  }
  // The app's own boot, without workers or HTTP: migrations, and pg-boss's schema and queues,
  // once, so that every test database cloned from the template starts ready.
  const template = await startApp({
    config: testConfig(),
    logger: silentLogger,
    role: "none",
    database: { url: withDatabase(adminUrl, TEMPLATE) },
    poolSize: 1,
    bossPoolSize: 2,
  });
  await template.stop({ graceful: false });
  return {
    env: { PROPVID_TEST_ADMIN_URL: adminUrl, PROPVID_TEST_TEMPLATE: TEMPLATE },
    async stop() {
      await stop();
    },
  };
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

function adminUrl(): string {
  const url = process.env.PROPVID_TEST_ADMIN_URL;
  if (!url)
    throw new Error("PROPVID_TEST_ADMIN_URL is not set: run the tests with `npm test` (scripts/test.mjs)");
  return url;
}

/** A fresh, migrated database for one test file. */
export async function createTestDatabase(options: { empty?: boolean } = {}): Promise<TestDatabase> {
  const name = `propvid_test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    const template = options.empty ? "template0" : (process.env.PROPVID_TEST_TEMPLATE ?? TEMPLATE);
    await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(adminUrl(), name);
  return {
    name,
    url,
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl() });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** A TypeORM data source on a fresh database; `close()` also drops the database. */
export async function openTestDataSource(): Promise<{
  dataSource: DataSource;
  database: TestDatabase;
  close(): Promise<void>;
}> {
  const database = await createTestDatabase();
  const dataSource = createDataSource({ url: database.url, logger: silentLogger, poolSize: 5 });
  await dataSource.initialize();
  return {
    dataSource,
    database,
    async close() {
      await dataSource.destroy();
      await database.drop();
    },
  };
}
