/**
 * The start-up sweep of work directories (issue 10, defect 10): the folder of a process that is
 * gone is removed, a live one's is kept. A process killed with its parent is reparented to pid 1,
 * which reaps it when it gets to it: until then it is a zombie, and `kill(pid, 0)` still finds it.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { removeStaleWorkDirs, workDirName } from "../../src/media/work-dir.js";
import { childProcessesOf } from "../helpers/procfs.js";

describe("work directories left by stopped processes", () => {
  let root: string;
  const folders: string[] = [];
  const cleanup: (() => void)[] = [];

  /** A work folder named for `pid`, its heartbeat touched `ageMs` ago. */
  const folderOf = (pid: number, ageMs = 0): string => {
    const name = workDirName(pid, folders.length.toString(16).padStart(8, "0"));
    mkdirSync(path.join(root, name));
    const heartbeat = path.join(root, name, "alive");
    writeFileSync(heartbeat, "");
    const at = new Date(Date.now() - ageMs);
    utimesSync(heartbeat, at, at);
    folders.push(name);
    return name;
  };

  before(() => {
    root = mkdtempSync(path.join(os.tmpdir(), "propvid-work-dirs-"));
  });
  after(() => {
    for (const step of cleanup) step();
    rmSync(root, { recursive: true, force: true });
  });

  it("removes a zombie's folder and a gone process's, keeps a live one's unless its heartbeat is stale", async () => {
    // `sh` starts a short child, then becomes `sleep 30` (exec), which never waits for it: a zombie.
    const parent = spawn("sh", ["-c", "sleep 0 & exec sleep 30"], { stdio: "ignore" });
    cleanup.push(() => parent.kill("SIGKILL"));
    let zombie: number | undefined;
    for (let i = 0; i < 100 && zombie === undefined; i++) {
      zombie = childProcessesOf(parent.pid!).find((child) => child.state === "Z")?.pid;
      if (zombie === undefined) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(zombie, "a zombie to test with");
    const live = spawn("sleep", ["30"], { stdio: "ignore" });
    cleanup.push(() => live.kill("SIGKILL"));
    const gone = spawn("true", [], { stdio: "ignore" });
    await new Promise((resolve) => gone.once("exit", resolve));

    const zombieFolder = folderOf(zombie);
    const goneFolder = folderOf(gone.pid!);
    const liveFolder = folderOf(live.pid!);
    const reusedPidFolder = folderOf(parent.pid!, 20 * 60_000);

    const removed = await removeStaleWorkDirs(root);
    assert.deepEqual(new Set(removed), new Set([zombieFolder, goneFolder, reusedPidFolder]));
    assert.ok(!removed.includes(liveFolder), "a live process keeps its folder");
  });
});
