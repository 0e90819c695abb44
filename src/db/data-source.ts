import "reflect-metadata";
import { DataSource } from "typeorm";
import { MIGRATIONS } from "../../migrations/index.js";
import type { Logger } from "../logger.js";
import { ENTITIES } from "./entities/index.js";
import { SnakeNamingStrategy } from "./naming-strategy.js";

export interface DataSourceOptions {
  url: string;
  logger: Logger;
  poolSize?: number;
  applicationName?: string;
}

/** The TypeORM data source. Schema changes come from migrations only; `synchronize` stays off. */
export function createDataSource(options: DataSourceOptions): DataSource {
  return new DataSource({
    type: "postgres",
    url: options.url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: "typeorm_migrations",
    migrationsTransactionMode: "each",
    synchronize: false,
    // gen_random_uuid() is built into PostgreSQL 13+: no extension to install.
    uuidExtension: "pgcrypto",
    installExtensions: false,
    migrationsRun: false,
    namingStrategy: new SnakeNamingStrategy(),
    applicationName: options.applicationName ?? "propvid",
    extra: { max: options.poolSize ?? 10, connectionTimeoutMillis: 10_000 },
    logging: false,
  });
}

/** Runs pending migrations; returns the names applied. */
export async function runMigrations(dataSource: DataSource): Promise<string[]> {
  const applied = await dataSource.runMigrations({ transaction: "each" });
  return applied.map((migration) => migration.name);
}

/** True when every known migration has been applied (for `/readyz`). */
export async function migrationsApplied(dataSource: DataSource): Promise<boolean> {
  return !(await dataSource.showMigrations());
}
