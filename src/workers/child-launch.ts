/**
 * Starting one of propvid's own child processes (the job process, the image analysis process):
 * this process's Node with the same flags and environment, its stdout and stderr, an IPC channel
 * with advanced serialisation (the structured clone a thread's data has: Buffers, Maps, nested
 * objects), and a handshake — the child gets `start` as its first message and answers `ready`
 * once it can work, or `failed` with a reason.
 */
import { type ChildProcess, fork, type Serializable } from "node:child_process";

/** What a child says after its start: it works, or why it cannot. */
export type ChildHandshake = { type: "ready" } | { type: "failed"; message: string };

/**
 * Forks `entry`, sends it `start` and resolves once it answers `ready`; rejects (the child
 * killed) when it answers `failed`, exits or cannot be spawned. `name` is for the errors;
 * `nodeOptions` are added to this process's Node flags.
 */
export function launchChild(
  entry: string,
  start: Serializable,
  name: string,
  nodeOptions: string[] = [],
): Promise<ChildProcess> {
  const child = fork(entry, [], {
    serialization: "advanced",
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    execArgv: [...process.execArgv, ...nodeOptions],
  });
  return new Promise<ChildProcess>((resolve, reject) => {
    const fail = (error: Error) => {
      child.off("message", onMessage);
      child.off("exit", onExit);
      child.kill("SIGKILL");
      reject(error);
    };
    const onMessage = (message: ChildHandshake | { type: string }) => {
      if (message.type === "ready") {
        child.off("message", onMessage);
        child.off("error", fail);
        child.off("exit", onExit);
        resolve(child);
      } else if (message.type === "failed") {
        fail(new Error(`the ${name} could not start: ${(message as { message: string }).message}`));
      }
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      fail(new Error(`the ${name} exited (${signal ?? `code ${code}`}) while starting`));
    child.on("message", onMessage);
    child.once("error", fail);
    child.once("exit", onExit);
    child.send(start);
  });
}
