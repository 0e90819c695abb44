/**
 * `serve --role all` runs its jobs in a child process (src/job-process.ts), against the real
 * server: every thread of the child runs at RENDER_NICE while the API's main thread keeps the
 * default; a crashed child is started again while the API goes on answering; a signal meant for
 * the parent does not stop the child behind the parent's back; and a parent killed without
 * warning takes the child with it. A `--role worker` process lowers itself the same way. Linux only
 * (procfs), like the service's priorities.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { until } from "../helpers/deadline.js";
import { childrenRunning, isRunning, readProcStat, threadsOf } from "../helpers/procfs.js";
import {
  childEnv,
  type ServerProcess,
  startServerProcess,
  startWorkerProcess,
} from "../helpers/server-process.js";

const RENDER_NICE = 12;

/** Live (not zombie) children of `parent` whose command line names the job process's entry. */
function jobProcesses(parent: number): number[] {
  return childrenRunning(parent, "job-process.main.js");
}

/** The nice value of each thread of `pid`. */
const threadNiceness = (pid: number) => [...threadsOf(pid).values()].map((thread) => thread.nice);

describe("the job process of serve --role all", () => {
  let database: TestDatabase;
  let dataDir: string;
  let server: ServerProcess | undefined;

  before(async () => {
    database = await createTestDatabase();
    dataDir = mkdtempSync(path.join(os.tmpdir(), "propvid-job-process-"));
  });
  after(async () => {
    await server?.stop("SIGKILL");
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("runs at RENDER_NICE, is restarted after a crash, ignores the parent's signals and dies with it", async () => {
    server = await startServerProcess(
      childEnv({ DATABASE_URL: database.url, PROPVID_DATA_DIR: dataDir, RENDER_NICE: String(RENDER_NICE) }),
    );
    const parent = server.child.pid!;
    const [first] = await until(
      "the job process",
      () => {
        const found = jobProcesses(parent);
        return found.length === 1 ? found : undefined;
      },
      10_000,
    );

    // Every thread of the child (V8's and libuv's among them), none of the parent's main thread.
    const childNiceness = threadNiceness(first!);
    assert.ok(childNiceness.length >= 5, `the child has its threads: ${childNiceness.length}`);
    assert.deepEqual(new Set(childNiceness), new Set([RENDER_NICE]), "every thread of the job process");
    assert.equal(readProcStat(`/proc/${parent}/stat`)!.nice, 0, "the API's main thread");

    // A crash: started again, and the API answers meanwhile.
    process.kill(first!, "SIGKILL");
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    const [second] = await until(
      "a new job process",
      () => {
        const found = jobProcesses(parent).filter((pid) => pid !== first);
        return found.length === 1 ? found : undefined;
      },
      15_000,
    );
    await until(
      "its restart",
      () => (/the job process is running again/.test(server!.output()) ? true : undefined),
      15_000,
    );
    assert.match(server.output(), /the job process ended unexpectedly/);
    assert.equal(readProcStat(`/proc/${second}/stat`)!.nice, RENDER_NICE);

    // A SIGTERM or SIGINT that reaches the child (a Ctrl-C goes to the whole process group) is the
    // parent's to act on: the child stays.
    process.kill(second!, "SIGTERM");
    process.kill(second!, "SIGINT");
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    assert.ok(isRunning(second!), "the job process ignored the signals");
    assert.equal(jobProcesses(parent).length, 1);

    // The parent killed without warning: the child goes too, at once.
    await server.stop("SIGKILL");
    const killedAt = Date.now();
    await until(
      "the job process to die with its parent",
      () => (isRunning(second!) ? undefined : true),
      3_000,
    );
    assert.ok(Date.now() - killedAt < 3_000);
  });

  it("serve --role worker (the two-machine layout, or a worker beside an API) runs all of it at RENDER_NICE", async () => {
    const worker = await startWorkerProcess(
      childEnv({ DATABASE_URL: database.url, PROPVID_DATA_DIR: dataDir, RENDER_NICE: String(RENDER_NICE) }),
    );
    try {
      const niceness = threadNiceness(worker.child.pid!);
      assert.ok(niceness.length >= 5, `the worker has its threads: ${niceness.length}`);
      assert.deepEqual(new Set(niceness), new Set([RENDER_NICE]));
    } finally {
      await worker.stop();
    }
  });
});
