import { type AppRole, type RunningApp, type StartAppOptions, startApp } from "../src/app.js";
import { parseConfig } from "../src/config.js";
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
  });
}
