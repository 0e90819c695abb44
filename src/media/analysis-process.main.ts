/**
 * The image analysis process's entry (see analysis-process.ts): it answers `ready` to its
 * `start`, then decodes and measures the photo files it is sent, one message each, answering the
 * analysis or the reason the photo was refused. Signals are its parent's to handle (a Ctrl-C
 * reaches the whole process group, and the parent ends it in its own shutdown order); when the
 * parent is gone (its IPC channel closed), it dies at once.
 */
import { serializeError } from "../workers/worker-messages.js";
import type { FromAnalysisProcess, ToAnalysisProcess } from "./analysis-process.js";
import { analyzeImage } from "./image-analysis.js";

if (!process.send) throw new Error("analysis-process.main.js runs as a child with an IPC channel");
/** Sends a message; `sent` runs once it is written (at once if the channel is closed). */
const post = (message: FromAnalysisProcess, sent?: () => void) => {
  if (process.connected) process.send?.(message, undefined, {}, () => sent?.());
  else sent?.();
};
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => undefined);
process.on("disconnect", () => process.kill(process.pid, "SIGKILL"));

/**
 * A full collection once a photo is answered: each analysis leaves a few MB of pixel arrays and
 * decoder output behind, which V8 would otherwise let pile up to its own limits. Measured over
 * 20 photos of 45 MB in a row: the process's held memory grew by 42 MB without, 12 MB with. It
 * runs once the answer is written: a collection while part of it still waits for the pipe would
 * hold the upload back.
 */
const collect = () => (globalThis as { gc?: () => void }).gc?.();

process.on("message", (message: ToAnalysisProcess) => {
  if (message.type === "start") {
    post({ type: "ready" });
  } else if (message.type === "analyse") {
    const { id, file, maxPixels } = message;
    post({ type: "started", id });
    // The pixel math runs on this thread: nothing else here waits for it.
    analyzeImage(file, { maxPixels }).then(
      (analysis) => post({ type: "analysed", id, analysis }, collect),
      (error: unknown) => post({ type: "refused", id, error: serializeError(error) }, collect),
    );
  }
});
