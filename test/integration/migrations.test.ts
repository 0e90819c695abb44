import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { DataSource } from "typeorm";
import { MIGRATIONS } from "../../migrations/index.js";
import { createDataSource, migrationsApplied, runMigrations } from "../../src/db/data-source.js";
import { silentLogger } from "../../src/logger.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";

describe("migrations", () => {
  let database: TestDatabase;
  let dataSource: DataSource;

  before(async () => {
    database = await createTestDatabase({ empty: true });
    dataSource = createDataSource({ url: database.url, logger: silentLogger, poolSize: 2 });
    await dataSource.initialize();
  });
  after(async () => {
    await dataSource.destroy();
    await database.drop();
  });

  it("run up on an empty database, and only once", async () => {
    assert.equal(await migrationsApplied(dataSource), false);
    assert.ok((await runMigrations(dataSource)).length > 0);
    assert.deepEqual(await runMigrations(dataSource), []);
    assert.equal(await migrationsApplied(dataSource), true);
    const tables: { table_name: string }[] = await dataSource.query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
    );
    const names = tables.map((row) => row.table_name);
    for (const table of [
      "tenant",
      "api_key",
      "campaign",
      "media",
      "asset",
      "video_job",
      "scene",
      "job_event",
    ]) {
      assert.ok(names.includes(table), `${table} exists`);
    }
  });

  it("agree with the entities: TypeORM finds no pending schema change", async () => {
    const pending = await dataSource.driver.createSchemaBuilder().log();
    assert.deepEqual(
      pending.upQueries.map((query) => query.query),
      [],
    );
  });

  it("unlink a media row's large object in the same transaction that deletes the row", async () => {
    const [{ id: tenantId }] = await dataSource.query("INSERT INTO tenant (name) VALUES ('lo') RETURNING id");
    const [{ oid }] = await dataSource.query("SELECT lo_from_bytea(0, 'hello'::bytea)::bigint AS oid");
    await dataSource.query(
      "INSERT INTO media (tenant_id, lo_oid, byte_size, sha256, content_type) VALUES ($1, $2, 5, 'x', 'text/plain')",
      [tenantId, oid],
    );
    const count = async () =>
      Number(
        (await dataSource.query("SELECT count(*) FROM pg_largeobject_metadata WHERE oid = $1::oid", [oid]))[0]
          .count,
      );
    assert.equal(await count(), 1);
    const rolledBack = new Error("roll back");
    await assert.rejects(
      dataSource.transaction(async (manager) => {
        await manager.query("DELETE FROM media WHERE lo_oid = $1", [oid]);
        assert.equal(
          Number(
            (
              await manager.query("SELECT count(*) FROM pg_largeobject_metadata WHERE oid = $1::oid", [oid])
            )[0].count,
          ),
          0,
        );
        throw rolledBack;
      }),
      rolledBack,
    );
    assert.equal(await count(), 1, "a rolled-back delete keeps the bytes");
    await dataSource.query("DELETE FROM media WHERE lo_oid = $1", [oid]);
    assert.equal(await count(), 0);
  });

  it("roll back down to nothing", async () => {
    // Every migration, newest first (phase-2 branches each add their own).
    for (let i = 0; i < MIGRATIONS.length; i++) await dataSource.undoLastMigration();
    const tables: unknown[] = await dataSource.query(
      "SELECT 1 FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'typeorm_migrations'",
    );
    assert.equal(tables.length, 0);
  });
});
