#!/usr/bin/env node
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { startApp } from "./app.js";
import { announceBootstrapKey } from "./bootstrap-key.js";
import { ConfigError, loadConfig, type Role } from "./config.js";
import { runMigrations } from "./db/data-source.js";
import { openDatabase } from "./db/database.js";
import {
  API_KEY_SCOPES,
  type ApiKeyScope,
  type AspectRatio,
  MUSIC_MOODS,
  type MusicMood,
} from "./domain/vocabulary.js";
import { AppError } from "./errors.js";
import { createLogger, EXIT_FLUSH_MS, type Logger, stdoutLogSink, writeStderrLine } from "./logger.js";
import { lowerOwnProcessPriority } from "./media/process-priority.js";
import { renderCommand } from "./render.command.js";
import { buildSchema, printSdl } from "./schema/build-schema.js";
import { ApiKeyService } from "./services/api-key.service.js";
import { TenantService } from "./services/tenant.service.js";
import { TENANTS_USAGE, tenantsCommand } from "./tenants.command.js";

const USAGE = `propvid — listing photos in, a cinematic property video out

Usage:
  propvid [serve] [--role all|api|worker]   run the service (default)
  propvid migrate                           apply database migrations and exit
  propvid keys create --tenant NAME [--name LABEL] [--scopes admin|write|read,...]
                                            create an API key (printed alone on stdout)
  propvid keys revoke PREFIX                revoke the key with that prefix
${TENANTS_USAGE}
  propvid render PHOTOS_DIR [-o out.mp4] [--scenes 7] [--mood LUXURY] [--aspect 16:9]
                                            render a folder of photos to an MP4 (embedded database)
  propvid print-schema [--out schema.graphql]
                                            print the GraphQL SDL

Settings come from the environment; see the README.`;

async function main(argv: string[]): Promise<number> {
  const command = argv[0] && !argv[0].startsWith("-") ? argv[0] : "serve";
  const rest = command === argv[0] ? argv.slice(1) : argv;
  if (command === "help" || rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  switch (command) {
    case "serve":
      return await serve(rest);
    case "migrate":
      return await migrate();
    case "keys":
      return await keys(rest);
    case "render":
      return await render(rest);
    case "tenants": {
      const config = loadConfig();
      return await tenantsCommand(config, cliLogger(config.logLevel), rest);
    }
    case "print-schema":
      return await printSchemaCommand(rest);
    default:
      process.stderr.write(`unknown command: ${command}\n\n${USAGE}\n`);
      return 2;
  }
}

/** Logs for one-shot commands go to stderr so stdout carries only the result. */
function cliLogger(level: string): Logger {
  return createLogger({ level: level === "info" ? "warn" : level, destination: process.stderr });
}

async function serve(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { role: { type: "string" } }, strict: true });
  const role = values.role;
  if (role !== undefined && role !== "all" && role !== "api" && role !== "worker") {
    throw new AppError("BAD_USER_INPUT", "--role must be all, api or worker");
  }
  const config = loadConfig(role ? { PROPVID_ROLE: role } : {});
  // A process that only renders yields the CPU to anything else on its host (an API process
  // beside it), all its threads, as `--role all`'s job process does (job-process.ts).
  if (config.role === "worker") lowerOwnProcessPriority(config.renderNice);
  const logSink = stdoutLogSink();
  const logger = createLogger({ level: config.logLevel, destination: logSink });
  const app = await startApp({
    config,
    logger,
    role: role as Role | undefined,
    bootstrap: true,
    maintenance: true,
    // With the API in this process, its jobs run in a child process of their own.
    jobs: "process",
  });
  if (app.bootstrapKey) announceBootstrapKey(app.bootstrapKey, app.config, logger);
  logger.info({ address: app.address, role: role ?? config.role }, "propvid is up");

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      logger.warn("second signal: exiting now");
      process.exit(1);
    }
    stopping = true;
    const deadlineMs = config.shutdownTimeoutMs;
    const deadlineAt = Date.now() + deadlineMs;
    logger.info({ signal, deadlineMs }, "shutting down");
    // Whatever hangs (a request that never ends, a job that ignores its signal, a log reader
    // that stopped reading), the process is gone by the deadline, saying what was still open.
    logSink.exitDeadline = deadlineAt;
    setTimeout(() => {
      const open = app.openParts();
      const line = `shutdown did not finish within ${deadlineMs} ms; still open: ${open.join(", ") || "log output"}`;
      logger.error({ open }, line);
      writeStderrLine(`propvid: ${line}`);
      process.exit(1);
    }, deadlineMs);
    void app.stop().then(async () => {
      logger.info("stopped");
      // A log reader that stopped reading gets a moment, not the rest of the deadline.
      await logSink.flush(Math.min(EXIT_FLUSH_MS, Math.max(0, deadlineAt - Date.now() - 100)));
      process.exit(0);
    });
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  return await new Promise<number>(() => {});
}

async function migrate(): Promise<number> {
  const config = loadConfig();
  const logger = cliLogger(config.logLevel);
  const database = await openDatabase(config, logger, { poolSize: 2 });
  try {
    const applied = await runMigrations(database.dataSource);
    process.stdout.write(applied.length ? `applied: ${applied.join(", ")}\n` : "up to date\n");
    return 0;
  } finally {
    await database.close();
  }
}

async function keys(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    options: { tenant: { type: "string" }, name: { type: "string" }, scopes: { type: "string" } },
    allowPositionals: true,
    strict: true,
  });
  const config = loadConfig();
  const logger = cliLogger(config.logLevel);
  if (action !== "create" && action !== "revoke") {
    process.stderr.write(`usage: propvid keys create --tenant NAME | propvid keys revoke PREFIX\n`);
    return 2;
  }
  if (action === "create" && !values.tenant)
    throw new AppError("BAD_USER_INPUT", "--tenant NAME is required");
  if (action === "revoke" && positionals.length !== 1)
    throw new AppError("BAD_USER_INPUT", "give the key's PREFIX");
  const scopes = (values.scopes ?? "admin").split(",").map((scope) => scope.trim()) as ApiKeyScope[];
  if (scopes.some((scope) => !API_KEY_SCOPES.includes(scope))) {
    throw new AppError(
      "BAD_USER_INPUT",
      `--scopes must be a comma-separated subset of ${API_KEY_SCOPES.join(", ")}`,
    );
  }

  const database = await openDatabase(config, logger, { poolSize: 2 });
  try {
    await runMigrations(database.dataSource);
    const apiKeys = new ApiKeyService(database.dataSource);
    if (action === "create") {
      const tenants = new TenantService(database.dataSource, apiKeys);
      const created = await tenants.createKeyForTenant(
        values.tenant!,
        values.name ?? "created with the CLI",
        scopes,
      );
      process.stdout.write(`${created.key}\n`);
    } else {
      const revoked = await apiKeys.revoke(null, positionals[0]!.replace(/^pv_/, "").split("_")[0]!);
      process.stderr.write(`revoked ${revoked.prefix}\n`);
    }
    return 0;
  } finally {
    await database.close();
  }
}

const ASPECTS: Record<string, AspectRatio> = {
  "16:9": "LANDSCAPE_16_9",
  "9:16": "PORTRAIT_9_16",
  "1:1": "SQUARE_1_1",
};

async function render(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      output: { type: "string", short: "o" },
      scenes: { type: "string" },
      mood: { type: "string" },
      aspect: { type: "string" },
    },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length !== 1) throw new AppError("BAD_USER_INPUT", "give one folder of photos");
  const aspectRatio = ASPECTS[values.aspect ?? "16:9"];
  if (!aspectRatio) throw new AppError("BAD_USER_INPUT", "--aspect must be 16:9, 9:16 or 1:1");
  const mood = (values.mood ?? "LUXURY").toUpperCase() as MusicMood;
  if (!MUSIC_MOODS.includes(mood))
    throw new AppError("BAD_USER_INPUT", `--mood must be one of ${MUSIC_MOODS.join(", ")}`);
  const sceneCount = Number(values.scenes ?? 7);
  // A worker with no API beside it: every core renders (unless RENDER_CONCURRENCY says otherwise).
  const config = loadConfig({ PROPVID_ROLE: "worker" });
  const logger = cliLogger(config.logLevel);
  const written = await renderCommand(config, logger, {
    photosDir: positionals[0]!,
    output: values.output ?? "propvid.mp4",
    sceneCount,
    mood,
    aspectRatio,
  });
  process.stdout.write(`${written}\n`);
  return 0;
}

async function printSchemaCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { out: { type: "string" } }, strict: true });
  const sdl = printSdl(await buildSchema());
  if (values.out) writeFileSync(values.out, sdl);
  else process.stdout.write(sdl);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    // One-shot commands end here even if a library left a timer or pool handle behind.
    process.exit(code);
  },
  (error: unknown) => {
    if (error instanceof ConfigError || error instanceof AppError) {
      process.stderr.write(`propvid: ${error.message}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`propvid: ${(error as Error)?.stack ?? String(error)}\n`);
      process.exitCode = 1;
    }
  },
);
