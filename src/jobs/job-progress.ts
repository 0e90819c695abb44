import type { DataSource } from "typeorm";
import { AppError } from "../errors.js";

/**
 * Watches a job while one of its parts runs: aborts the work when the job is cancelled (from
 * any process: the check reads the row), and writes progress at most every `intervalMs`.
 */
export class PartWatcher {
  readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private latest = 0;
  private written = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly jobId: string,
    private readonly writeProgress: (fraction: number) => Promise<void>,
    private readonly intervalMs = 500,
  ) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  start(): this {
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
    return this;
  }

  report = (fraction: number): void => {
    this.latest = Math.max(this.latest, Math.min(1, Math.max(0, fraction)));
  };

  private async tick(): Promise<void> {
    try {
      const [row] = await this.dataSource.query("SELECT status FROM video_job WHERE id = $1", [this.jobId]);
      if (!row || row.status === "CANCELLED") {
        this.controller.abort(new AppError("CANCELLED", "The job was cancelled"));
        return;
      }
      const rounded = Math.floor(this.latest * 20) / 20; // 5 % steps: enough for a progress bar
      if (rounded > this.written) {
        this.written = rounded;
        await this.writeProgress(rounded);
      }
    } catch {
      // A missed tick is harmless; the next one catches up.
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}

/** Whether the job has been cancelled or has ended (a part should then do nothing). */
export async function jobIsLive(dataSource: DataSource, jobId: string): Promise<boolean> {
  const [row] = await dataSource.query("SELECT status FROM video_job WHERE id = $1", [jobId]);
  return row !== undefined && !["CANCELLED", "FAILED", "SUCCEEDED"].includes(row.status);
}
