/**
 * Processes and threads as Linux's procfs shows them, for the tests and benches that check what
 * the service starts, how it prioritises it and what it leaves behind.
 */
import { readdirSync, readFileSync } from "node:fs";

export interface ProcStat {
  /** The command name (`comm`), which may hold spaces and parentheses. */
  name: string;
  /** R, S, D, Z (a zombie: finished, only its exit status left) … */
  state: string;
  ppid: number;
  nice: number;
  /** User + system CPU time in clock ticks (USER_HZ, 1/100 s). */
  cpuTicks: number;
  /** The same for its exited children it has reaped. */
  childrenCpuTicks: number;
}

/**
 * A `stat` file (`/proc/<pid>/stat`, `/proc/<pid>/task/<tid>/stat`, `/proc/thread-self/stat`);
 * undefined once the process or thread is gone.
 */
export function readProcStat(file: string): ProcStat | undefined {
  let line: string;
  try {
    line = readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  const close = line.lastIndexOf(")");
  // After "pid (comm) ": field 3 (state) is index 0.
  const fields = line.slice(close + 2).split(" ");
  return {
    name: line.slice(line.indexOf("(") + 1, close),
    state: fields[0]!,
    ppid: Number(fields[1]),
    nice: Number(fields[16]),
    cpuTicks: Number(fields[11]) + Number(fields[12]),
    childrenCpuTicks: Number(fields[13]) + Number(fields[14]),
  };
}

/**
 * Whether `signal` (a number, e.g. 9 for SIGKILL) is in `pid`'s pending sets (`SigPnd`, `ShdPnd`
 * of `/proc/<pid>/status`). A SIGKILL sent to a process group stays in the shared set until the
 * process is reaped, a zombie included (measured: 300 of 300 kills under load), while its state
 * may still read `R` for milliseconds after `kill` returned, until the scheduler runs it.
 */
export function signalPending(pid: number, signal: number): boolean {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return false;
  }
  const bit = 1n << BigInt(signal - 1);
  return [/^SigPnd:\s*([0-9a-f]+)$/m, /^ShdPnd:\s*([0-9a-f]+)$/m].some((line) => {
    const mask = line.exec(status)?.[1];
    return mask !== undefined && (BigInt(`0x${mask}`) & bit) !== 0n;
  });
}

/** Whether `pid` is running: not gone, and not a zombie (finished, only its exit status left). */
export function isRunning(pid: number): boolean {
  const stat = readProcStat(`/proc/${pid}/stat`);
  return stat !== undefined && stat.state !== "Z" && stat.state !== "X";
}

/** The processes whose parent is `ppid` (zombies included: check `state`), with their pids. */
export function childProcessesOf(ppid: number): (ProcStat & { pid: number })[] {
  const found: (ProcStat & { pid: number })[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readProcStat(`/proc/${entry}/stat`);
    if (stat?.ppid === ppid) found.push({ ...stat, pid: Number(entry) });
  }
  return found;
}

/** The FFmpeg processes `ppid` has started that are still running (not yet exited zombies). */
export function runningFfmpegChildren(ppid: number): (ProcStat & { pid: number })[] {
  return childProcessesOf(ppid).filter((child) => child.name.includes("ffmpeg") && child.state !== "Z");
}

/** The live (not zombie) children of `ppid` whose command line names `entry`, by pid. */
export function childrenRunning(ppid: number, entry: string): number[] {
  return childProcessesOf(ppid)
    .filter((child) => child.state !== "Z")
    .map((child) => child.pid)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(entry);
      } catch {
        return false;
      }
    });
}

/** The image analysis process `ppid` has started (media/analysis-process.ts), if it runs. */
export function analysisProcessOf(ppid: number): number | undefined {
  return childrenRunning(ppid, "analysis-process.main.js")[0];
}

/** Whether `pid` has a file under a path containing `fragment` mapped (`/proc/<pid>/maps`). */
export function mapsFile(pid: number, fragment: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/maps`, "utf8").includes(fragment);
  } catch {
    return false;
  }
}

/** Each thread of `pid` (`self` for this process), by thread id. */
export function threadsOf(pid: number | "self"): Map<number, ProcStat> {
  const threads = new Map<number, ProcStat>();
  let ids: string[];
  try {
    ids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return threads; // gone
  }
  for (const id of ids) {
    const stat = readProcStat(`/proc/${pid}/task/${id}/stat`);
    if (stat) threads.set(Number(id), stat);
  }
  return threads;
}
