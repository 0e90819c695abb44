/**
 * The per-process work directory: where photos are copied and clips rendered while a job runs.
 *
 * Temp folders that are "always removed" are removed by the process that made them — not after a
 * kill -9, an OOM kill or a power cut, and those held customers' photos and partial clips in the
 * OS temp dir for ever. So every process works under `<root>/<host>-<pid>-<random>/` (mode 0700),
 * and each start removes the folders of processes on this host that are gone. A folder whose
 * process is alive is left alone (several processes may share one data dir), unless its owner
 * stopped touching it: a live pid with a stale heartbeat is a reused pid.
 */
import { randomBytes } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import { mkdir, readdir, rm, stat, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Logger } from "../logger.js";

const HEARTBEAT_FILE = "alive";
/** The owner touches its heartbeat this often… */
const HEARTBEAT_MS = 60_000;
/** …so one untouched for this long has no owner, whatever its pid says. */
const STALE_AFTER_MS = 15 * 60_000;

const hostTag = () =>
  os
    .hostname()
    .replace(/[^A-Za-z0-9.-]/g, "_")
    .slice(0, 64) || "host";

/** The name of a work directory of process `pid` on this host: `<host>-<pid>-<tag>`. */
export function workDirName(pid: number, tag = randomBytes(4).toString("hex")): string {
  return `${hostTag()}-${pid}-${tag}`;
}

/** The pid a work directory's name gives, when it is one of this host's; else undefined. */
export function workDirPid(name: string): number | undefined {
  const prefix = `${hostTag()}-`;
  if (!name.startsWith(prefix)) return undefined;
  const pid = Number(name.slice(prefix.length).split("-")[0]);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

export interface WorkDir {
  path: string;
  /** Removes the directory and everything in it. */
  close(): Promise<void>;
}

/**
 * Whether `pid` is a running process. A zombie is not: it has ended and waits to be reaped — a job
 * process killed with its parent is reparented to pid 1, which may reap it seconds later, and
 * until then `kill(pid, 0)` still finds it (Linux: its state in /proc is `Z`).
 */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"; // exists, owned by someone else
  }
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch (error) {
    // Gone since the kill (Linux); elsewhere there is no /proc to ask, and kill's answer stands.
    return !(process.platform === "linux" && (error as NodeJS.ErrnoException).code === "ENOENT");
  }
  const state = stat[stat.lastIndexOf(")") + 2]; // after "pid (comm) "
  return state !== "Z" && state !== "X";
}

/** Removes the work directories under `root` left by processes of this host that are gone. */
export async function removeStaleWorkDirs(root: string, logger?: Logger): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(root);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const removed: string[] = [];
  for (const name of names) {
    const pid = workDirPid(name);
    if (pid === undefined) continue;
    const dir = path.join(root, name);
    // Our own pid on a folder we have not made yet: a previous process had it (containers
    // often run the server as pid 1 every time).
    if (pid !== process.pid && isAlive(pid)) {
      const heartbeat = await stat(path.join(dir, HEARTBEAT_FILE)).catch(() => undefined);
      // A folder being created has no heartbeat yet: give it the benefit of the doubt.
      const since = heartbeat?.mtimeMs ?? (await stat(dir).catch(() => undefined))?.mtimeMs ?? 0;
      if (Date.now() - since < STALE_AFTER_MS) continue;
    }
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
    removed.push(name);
  }
  if (removed.length > 0) logger?.info({ root, removed }, "removed work directories of stopped processes");
  return removed;
}

/** Creates a work directory under `root` (after removing stale ones), with a heartbeat. */
async function createWorkDir(root: string, logger?: Logger): Promise<WorkDir> {
  await mkdir(root, { recursive: true, mode: 0o700 });
  await removeStaleWorkDirs(root, logger);
  const dir = path.join(root, workDirName(process.pid));
  await mkdir(dir, { mode: 0o700 });
  const heartbeat = path.join(dir, HEARTBEAT_FILE);
  await writeFile(heartbeat, "");
  const timer = setInterval(() => {
    const now = new Date();
    utimes(heartbeat, now, now).catch(() => undefined);
  }, HEARTBEAT_MS);
  timer.unref();
  // Removed at exit too, when the process ends without closing it (process.exit on a signal).
  const onExit = () => rmSync(dir, { recursive: true, force: true });
  process.once("exit", onExit);
  return {
    path: dir,
    async close() {
      clearInterval(timer);
      process.off("exit", onExit);
      await rm(dir, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}

/**
 * The process's one work directory, shared by every app started in it (tests start several):
 * created by the first `acquireWorkDir` (under its `root`), removed when the last user closes it.
 */
let shared: { dir: Promise<WorkDir>; users: number } | undefined;

/** Takes a reference to the process's work directory (creating it under `root` if needed). */
export async function acquireWorkDir(root: string, logger?: Logger): Promise<WorkDir> {
  if (!shared) shared = { dir: createWorkDir(root, logger), users: 0 };
  const current = shared;
  current.users++;
  let dir: WorkDir;
  try {
    dir = await current.dir;
  } catch (error) {
    if (shared === current) shared = undefined;
    throw error;
  }
  let closed = false;
  return {
    path: dir.path,
    async close() {
      if (closed) return;
      closed = true;
      if (--current.users > 0) return;
      if (shared === current) shared = undefined;
      await dir.close();
    },
  };
}

/**
 * Where temp folders go (`withTempDir`): the process's work directory while one is open, else
 * the OS temp dir (one-off tools and unit tests that start no app). A process-wide setting like
 * the current directory, so the job handlers that make temp folders need none passed to them.
 */
export async function currentWorkDir(): Promise<string> {
  return shared ? (await shared.dir).path : os.tmpdir();
}
