import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { type AppRole, type RunningApp, type StartAppOptions, startApp } from "../src/app.js";
import { parseConfig } from "../src/config.js";
import { startEmbeddedPostgres } from "../src/db/embedded-postgres.js";
import { silentLogger } from "../src/logger.js";

/**
 * The app as a benchmark runs it: production settings plus `env`, a fixed throwaway secret, no
 * logs, on the benchmark's own database — through the same boot as `propvid serve`.
 */
export async function startBenchApp(options: {
  databaseUrl: string;
  role: AppRole;
  env?: Record<string, string>;
  poolSize?: number;
  bossPoolSize?: number;
  providers?: StartAppOptions["providers"];
  analysis?: StartAppOptions["analysis"];
}): Promise<RunningApp> {
  return await startApp({
    config: parseConfig(
      { NODE_ENV: "production", ...options.env },
      { secret: () => "bench-secret-".padEnd(40, "x") },
    ),
    logger: silentLogger,
    role: options.role,
    database: { url: options.databaseUrl },
    poolSize: options.poolSize,
    bossPoolSize: options.bossPoolSize,
    providers: options.providers,
    analysis: options.analysis,
  });
}

/**
 * A throwaway embedded PostgreSQL (fsync off) in a scratch folder, and the benchmark app on it,
 * both gone when `use` returns or throws.
 */
export async function withBenchApp<T>(
  name: string,
  options: Omit<Parameters<typeof startBenchApp>[0], "databaseUrl" | "providers"> & {
    providers?: (scratch: string) => StartAppOptions["providers"];
  },
  use: (app: RunningApp) => Promise<T>,
): Promise<T> {
  const scratch = mkdtempSync(path.join(os.tmpdir(), `propvid-${name}-bench-`));
  chmodSync(scratch, 0o755); // the postgres system user must be able to enter it
  const server = await startEmbeddedPostgres({
    dataDir: path.join(scratch, "postgres"),
    logger: silentLogger,
    settings: { fsync: "off", synchronous_commit: "off" },
  });
  try {
    const app = await startBenchApp({
      ...options,
      databaseUrl: server.url,
      providers: options.providers?.(scratch),
    });
    try {
      return await use(app);
    } finally {
      await app.stop({ graceful: false });
    }
  } finally {
    await server.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}
