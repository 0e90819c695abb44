import { parseArgs } from "node:util";
import type { Config } from "./config.js";
import { runMigrations } from "./db/data-source.js";
import { openDatabase } from "./db/database.js";
import { AppError } from "./errors.js";
import type { Logger } from "./logger.js";
import {
  type QuotaChanges,
  QuotaService,
  type TenantLimits,
  type TenantQuotaReport,
} from "./services/quota.service.js";

export const TENANTS_USAGE = `  propvid tenants list                      tenants with their quotas and current usage
  propvid tenants set-quota NAME [--storage-bytes N] [--videos-per-month N] [--concurrent-jobs N]
                                            set a tenant's quotas (N = default: the server's)`;

const OPTION_OF: Record<keyof TenantLimits, string> = {
  storageBytes: "storage-bytes",
  videosPerMonth: "videos-per-month",
  concurrentJobs: "concurrent-jobs",
};

/** `set-quota NAME --storage-bytes N …` → the tenant's name and the changes (`default` → null). */
export function parseSetQuota(args: string[]): { name: string; changes: QuotaChanges } {
  const { values, positionals } = badInputOf(() =>
    parseArgs({
      args,
      options: {
        "storage-bytes": { type: "string" },
        "videos-per-month": { type: "string" },
        "concurrent-jobs": { type: "string" },
      },
      allowPositionals: true,
      strict: true,
    }),
  );
  if (positionals.length !== 1) throw new AppError("BAD_USER_INPUT", "give the tenant's NAME");
  const changes: QuotaChanges = {};
  for (const [key, option] of Object.entries(OPTION_OF) as [keyof TenantLimits, string][]) {
    const raw = values[option as keyof typeof values];
    if (raw === undefined) continue;
    if (raw === "default") {
      changes[key] = null;
      continue;
    }
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value)) {
      throw new AppError("BAD_USER_INPUT", `--${option} must be a whole number ≥ 0 or "default"`);
    }
    changes[key] = value;
  }
  if (Object.keys(changes).length === 0) {
    throw new AppError(
      "BAD_USER_INPUT",
      "give at least one of --storage-bytes, --videos-per-month, --concurrent-jobs",
    );
  }
  return { name: positionals[0]!, changes };
}

/** node:util's argument errors (unknown option, missing value) as the CLI's usage errors. */
function badInputOf<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new AppError("BAD_USER_INPUT", (error as Error).message);
  }
}

/** One line per tenant: each quota as `used/limit` (`*` marks the tenant's own limit, ∞ none). */
export function formatTenantReports(reports: TenantQuotaReport[]): string {
  const limit = (report: TenantQuotaReport, key: keyof TenantLimits) =>
    `${report.limits[key] ?? "∞"}${report.own[key] ? "*" : ""}`;
  const rows = [
    ["TENANT", "STORAGE BYTES", "VIDEOS THIS MONTH", "RUNNING JOBS", "WAITING"],
    ...reports.map((report) => [
      report.name,
      `${report.storedBytes}/${limit(report, "storageBytes")}`,
      `${report.videosThisMonth}/${limit(report, "videosPerMonth")}`,
      `${report.runningJobs}/${limit(report, "concurrentJobs")}`,
      String(report.waitingJobs),
    ]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const lines = rows.map((row) =>
    row
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join("  ")
      .trimEnd(),
  );
  return `${lines.join("\n")}\n(used/limit; * the tenant's own limit, otherwise the server default; ∞ no limit)\n`;
}

/** `propvid tenants list | set-quota`: prints the tenants' quotas and usage on stdout. */
export async function tenantsCommand(config: Config, logger: Logger, args: string[]): Promise<number> {
  const [action, ...rest] = args;
  if (action !== "list" && action !== "set-quota") {
    process.stderr.write(`usage:\n${TENANTS_USAGE}\n`);
    return 2;
  }
  const request = action === "set-quota" ? parseSetQuota(rest) : undefined;
  if (action === "list") badInputOf(() => parseArgs({ args: rest, options: {}, strict: true }));
  const database = await openDatabase(config, logger, { poolSize: 2 });
  try {
    await runMigrations(database.dataSource);
    const quotas = new QuotaService({ dataSource: database.dataSource, defaults: config.tenantDefaults });
    const reports = request ? [await quotas.setQuota(request.name, request.changes)] : await quotas.report();
    process.stdout.write(formatTenantReports(reports));
    return 0;
  } finally {
    await database.close();
  }
}
