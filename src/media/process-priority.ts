/**
 * CPU priorities: the API's event loop (the main thread) keeps the default; what renders yields
 * to it. On Linux a thread has a nice value of its own (set through its thread id), inherited by
 * the threads and processes it starts. A child we start runs detached (its own process group,
 * so that a kill takes all of it), which makes it a session of its own, and with the kernel's
 * autogroup scheduling a session is a group that competes with the server's as an equal,
 * whatever its nice value: so the child's autogroup is lowered too. Measured before that, two
 * x264 encoders at nice 10 each took as much CPU as the whole server process.
 */
import { readdirSync, readlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import { isMainThread } from "node:worker_threads";

/** The niceness this thread was lowered to (`lowerThreadPriority`); its children get at least it. */
let threadNiceness = 0;

const clamp = (niceness: number) => Math.min(19, Math.max(0, Math.round(niceness)));

/**
 * Lowers this worker thread's priority to `niceness` (0–19), and that of the child processes it
 * starts from now on (`runFfmpeg`). A no-op on the main thread (it would lower the API) and
 * where a thread's id cannot be read (not Linux). Returns whether it was lowered.
 */
export function lowerThreadPriority(niceness: number): boolean {
  if (isMainThread || !(niceness > 0)) return false;
  let tid: number;
  try {
    tid = Number(readlinkSync("/proc/thread-self").split("/").at(-1)); // "<pid>/task/<tid>"
  } catch {
    return false;
  }
  if (!Number.isSafeInteger(tid) || tid <= 0 || tid === process.pid) return false;
  try {
    os.setPriority(tid, clamp(niceness));
  } catch {
    return false;
  }
  threadNiceness = clamp(niceness);
  return true;
}

/**
 * Lowers this whole process to `niceness` (0–19): on Linux each of its threads (a nice value is
 * a thread's: those Node started before this call — V8's platform threads among them — keep
 * theirs otherwise), elsewhere the process. Threads and children started later inherit it. Its
 * autogroup is left alone: this process shares its parent's session (job-process.ts), and the
 * autogroup's nice would lower the parent too. Returns whether it was lowered.
 */
export function lowerOwnProcessPriority(niceness: number): boolean {
  if (!(niceness > 0)) return false;
  let tids: number[] = [];
  try {
    tids = readdirSync("/proc/self/task").map(Number);
  } catch {
    // not Linux: the process's nice value is the process's
  }
  try {
    if (tids.length === 0) os.setPriority(process.pid, clamp(niceness));
    for (const tid of tids) os.setPriority(tid, clamp(niceness));
  } catch {
    return false;
  }
  threadNiceness = clamp(niceness);
  return true;
}

/** The niceness for a child process this thread starts, asked for `niceness` (default 0). */
export function childNiceness(niceness = 0): number {
  return Math.max(clamp(niceness), threadNiceness);
}

/**
 * Lowers a child process's priority: its nice value (so on any OS; threads it creates later,
 * x264's, inherit it) and, on Linux, its session's autogroup. It may have exited already: a
 * priority is an optimisation, never a failure.
 */
export function lowerProcessPriority(pid: number, niceness: number): void {
  if (!(niceness > 0)) return;
  try {
    os.setPriority(pid, clamp(niceness));
  } catch {
    return; // gone
  }
  if (process.platform !== "linux") return;
  try {
    writeFileSync(`/proc/${pid}/autogroup`, String(clamp(niceness)));
  } catch {
    // no autogroup scheduling on this kernel, or the process is gone
  }
}
