/**
 * startApp, the one boot of every process: what each role starts, listening on a concrete port,
 * who owns the database pool, and that a boot failing half-way undoes what it started.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import pg from "pg";
import { type AppRole, startApp } from "../../src/app.js";
import { createDataSource } from "../../src/db/data-source.js";
import { QUEUE_POLICIES } from "../../src/jobs/queues.js";
import { silentLogger } from "../../src/logger.js";
import { testConfig } from "../helpers/config.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";

async function withDatabase(run: (database: TestDatabase) => Promise<void>): Promise<void> {
  const database = await createTestDatabase();
  try {
    await run(database);
  } finally {
    await database.drop();
  }
}

/** Connections to the database other than this probe's own, once they have had time to close. */
async function connectionsTo(database: TestDatabase): Promise<number> {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    let count = Number.NaN;
    for (let i = 0; i < 50; i++) {
      const result = await client.query<{ n: string }>(
        "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
      );
      count = Number(result.rows[0]!.n);
      if (count === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return count;
  } finally {
    await client.end();
  }
}

const start = (database: TestDatabase, role: AppRole, extra: Partial<Parameters<typeof startApp>[0]> = {}) =>
  startApp({
    config: testConfig(),
    logger: silentLogger,
    role,
    database: { url: database.url },
    listen: false,
    poolSize: 2,
    bossPoolSize: 2,
    ...extra,
  });

describe("startApp: one boot for every role", () => {
  const roles: [AppRole, { workers: boolean; http: boolean }][] = [
    ["none", { workers: false, http: false }],
    ["api", { workers: false, http: true }],
    ["worker", { workers: true, http: false }],
    ["all", { workers: true, http: true }],
  ];
  for (const [role, wants] of roles) {
    it(`${role}: ${wants.workers ? "a worker per queue" : "no workers"}, ${wants.http ? "HTTP" : "no HTTP"}; stop() closes everything`, async () => {
      await withDatabase(async (database) => {
        const app = await start(database, role);
        const workers = [...new Set(app.boss.getWipData().map((worker) => worker.name))].sort();
        assert.deepEqual(workers, wants.workers ? Object.keys(QUEUE_POLICIES).sort() : []);
        assert.equal(app.http !== undefined, wants.http);
        if (app.http) {
          const health = await app.http.app.inject({ method: "GET", url: "/healthz" });
          assert.equal(health.statusCode, 200);
        }
        assert.equal(app.address, undefined, "listen: false opens no port");
        await app.stop({ graceful: false });
        assert.equal(app.database.dataSource.isInitialized, false, "the pool it opened is closed");
        assert.equal(await connectionsTo(database), 0, "no connection left to the database");
      });
    });
  }

  it("listens on a concrete port for PORT=0, and signed URLs name that port", async () => {
    await withDatabase(async (database) => {
      const app = await start(database, "api", {
        config: testConfig({ HOST: "127.0.0.1", PORT: "0" }),
        listen: true,
      });
      try {
        assert.match(app.address!, /^http:\/\/127\.0\.0\.1:\d+$/);
        assert.notEqual(app.config.port, 0);
        assert.equal(app.config.publicBaseUrl, app.address);
        assert.ok(app.services.mediaUrl("t", "m").startsWith(`${app.address}/v1/media/m?token=`));
        assert.equal((await fetch(`${app.address}/healthz`)).status, 200);
      } finally {
        await app.stop({ graceful: false });
      }
      await assert.rejects(fetch(`${app.address}/healthz`), "the port is closed after stop()");
    });
  });

  it("leaves a data source the caller passed open", async () => {
    await withDatabase(async (database) => {
      const dataSource = createDataSource({ url: database.url, logger: silentLogger, poolSize: 2 });
      await dataSource.initialize();
      try {
        const app = await start(database, "none", { database: { url: database.url, dataSource } });
        assert.equal(app.services.dataSource, dataSource);
        await app.stop({ graceful: false });
        assert.equal(dataSource.isInitialized, true);
        assert.deepEqual(await dataSource.query("SELECT 1 AS one"), [{ one: 1 }]);
      } finally {
        await dataSource.destroy();
      }
    });
  });

  it("undoes what it had started when a later step fails", async () => {
    await withDatabase(async (database) => {
      // The provider registry is built after the database, migrations and pg-boss are up.
      await assert.rejects(
        start(database, "all", {
          providers: () => {
            throw new Error("no providers today");
          },
        }),
        /no providers today/,
      );
      assert.equal(await connectionsTo(database), 0, "pg-boss and the pool were stopped");
    });
  });
});
