/**
 * Issue 10, defect 15, against the real server process: a log reader that stops reading must not
 * stop the server (it keeps answering, its memory stays bounded, SIGTERM ends it within the
 * deadline), and a shutdown that cannot finish ends at the deadline, non-zero, saying what was
 * still open.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { childEnv, MAIN, PINNED_YOUNG_GENERATION } from "../helpers/server-process.js";

const MiB = 1024 * 1024;

function anonymousMemoryOf(pid: number): number {
  const match = /RssAnon:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(match?.[1] ?? 0) * 1024;
}

/** Starts `propvid serve`, reads stdout until it is up, then stops reading it (the pipe fills). */
async function startWithStalledStdout(
  env: NodeJS.ProcessEnv,
): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  // what it retains, not the young generation's size
  const child = spawn(process.execPath, [...PINNED_YOUNG_GENERATION, MAIN, "serve"], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  let seen = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${seen}${stderr}`)), 60_000);
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      const match = /"address":"(http:\/\/[^"]+)"[^\n]*"msg":"propvid is up"/.exec(seen);
      if (!match) return;
      clearTimeout(timer);
      child.stdout!.off("data", onData);
      child.stdout!.pause(); // from here on, nobody reads the server's stdout
      resolve(match[1]!);
    };
    child.stdout!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`server exited with ${code}:\n${seen}${stderr}`)));
  });
  return { child, url, stderr: () => stderr };
}

async function exitOf(child: ChildProcess): Promise<{ code: number | null; ms: number }> {
  const started = Date.now();
  if (child.exitCode !== null) return { code: child.exitCode, ms: 0 };
  const [code] = (await once(child, "exit")) as [number | null];
  return { code, ms: Date.now() - started };
}

describe("shutdown and a stalled log reader (issue 10, defect 15)", () => {
  let database: TestDatabase;
  let dir: string;
  const children: ChildProcess[] = [];

  before(async () => {
    database = await createTestDatabase();
    dir = mkdtempSync(path.join(os.tmpdir(), "propvid-shutdown-"));
  });
  after(async () => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("keeps answering with stdout unread, holds its memory, and ends within the deadline on SIGTERM", async () => {
    const env = childEnv({
      DATABASE_URL: database.url,
      PROPVID_DATA_DIR: path.join(dir, "stalled"),
      PROPVID_ROLE: "api",
      LOG_LEVEL: "info",
    });
    const server = await startWithStalledStdout(env);
    children.push(server.child);
    const pid = server.child.pid!;
    // Every request logs its URL twice (incoming, completed): 12 kB URLs fill an unread pipe fast.
    const longUrl = `${server.url}/healthz?pad=${"p".repeat(12_000)}`;
    const hammer = async (count: number) => {
      for (let i = 0; i < count; i += 20) {
        const answers = await Promise.all(
          Array.from({ length: 20 }, () => fetch(longUrl, { signal: AbortSignal.timeout(10_000) })),
        );
        for (const answer of answers) assert.equal(answer.status, 200);
      }
    };
    await hammer(200); // the pipe is full now, and the log buffer with it
    const settled = anonymousMemoryOf(pid);
    const started = Date.now();
    await hammer(2_000);
    const elapsed = Date.now() - started;
    const growth = (anonymousMemoryOf(pid) - settled) / MiB;
    process.stdout.write(
      `# 2,000 requests with 24 kB of log each (48 MB) and stdout unread: ${elapsed} ms, memory growth ${growth.toFixed(1)} MB\n`,
    );
    // Unbounded, the lines would pile up in memory (48 MB here); the log buffer holds 4 MB.
    assert.ok(growth < 24, `memory grew by ${growth.toFixed(1)} MB`);

    server.child.kill("SIGTERM");
    const { code, ms } = await exitOf(server.child);
    assert.ok(ms < 15_000, `exited ${ms} ms after SIGTERM`);
    assert.equal(code, 0, server.stderr());
    assert.match(server.stderr(), /stdout was not being read: \d+ log lines dropped/);
  });

  it("exits non-zero at the shutdown deadline, naming what was still open", async () => {
    const env = childEnv({
      DATABASE_URL: database.url,
      PROPVID_DATA_DIR: path.join(dir, "hung"),
      PROPVID_ROLE: "api",
      SHUTDOWN_TIMEOUT_MS: "2000",
    });
    const server = await startWithStalledStdout(env);
    children.push(server.child);
    // A request that never finishes: a JSON body announced and never sent, on a connection the
    // idle timeout (30 s) would close only long after the deadline.
    const { hostname, port } = new URL(server.url);
    const socket = net.connect(Number(port), hostname);
    socket.on("error", () => undefined);
    await once(socket, "connect");
    socket.write(
      `POST /graphql HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{`,
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    server.child.kill("SIGTERM");
    const { code, ms } = await exitOf(server.child);
    socket.destroy();
    assert.equal(code, 1);
    assert.ok(ms >= 1_900 && ms < 6_000, `exited ${ms} ms after SIGTERM`);
    assert.match(
      server.stderr(),
      /shutdown did not finish within 2000 ms; still open: HTTP server \(1 requests in flight\)/,
    );
  });
});
