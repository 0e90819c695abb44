import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { freePort } from "./app.js";
import { createTestDatabase, type TestDatabase } from "./db.js";
import { PROJECT_ROOT } from "./fixtures.js";
import {
  childEnv,
  gql,
  runCli,
  type ServerProcess,
  startServerProcess,
  startWorkerProcess,
} from "./server-process.js";

/**
 * What the browser tests talk to: an `--role api` process serving the built console on a fixed
 * loopback port (so it can be restarted under the page without changing its origin) and an
 * `--role worker` process rendering, on a fresh database, with an admin key.
 */
export interface ConsoleServer {
  origin: string;
  key: string;
  /** Stops the API process gracefully (its WebSockets are closed by the server) and starts it again. */
  stopApi(): Promise<void>;
  startApi(): Promise<void>;
  graphql<T>(query: string, variables?: Record<string, unknown>): Promise<T>;
  /** The job's last event sequence, straight from the database. */
  lastSequence(jobId: string): Promise<number>;
  close(): Promise<void>;
}

export async function startConsoleServer(tenant: string): Promise<ConsoleServer> {
  assert.ok(
    existsSync(path.join(PROJECT_ROOT, "dist", "console", "index.html")),
    "the console is built (npm run build)",
  );
  const database: TestDatabase = await createTestDatabase();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "propvid-web-"));
  const env = childEnv({
    DATABASE_URL: database.url,
    PROPVID_DATA_DIR: dataDir,
    PORT: String(await freePort()),
  });
  let api: ServerProcess | undefined;
  let worker: ServerProcess | undefined;
  const close = async () => {
    await worker?.stop("SIGKILL");
    await api?.stop("SIGKILL");
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    api = await startServerProcess(env, ["--role", "api"]);
    worker = await startWorkerProcess(env);
  } catch (error) {
    await close();
    throw error;
  }
  const origin = api.url;
  const key = (await runCli(["keys", "create", "--tenant", tenant], env)).stdout.trim();
  return {
    origin,
    key,
    async stopApi() {
      await api?.stop("SIGTERM");
      api = undefined;
    },
    async startApi() {
      api = await startServerProcess(env, ["--role", "api"]);
    },
    async graphql<T>(query: string, variables?: Record<string, unknown>) {
      const answer = await gql<T>(origin, key, query, variables);
      assert.deepEqual(answer.body.errors ?? [], [], query);
      return answer.body.data!;
    },
    async lastSequence(jobId) {
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      try {
        const { rows } = await client.query("SELECT last_sequence FROM video_job WHERE id = $1", [jobId]);
        return rows[0].last_sequence;
      } finally {
        await client.end();
      }
    },
    close,
  };
}
