import { monitorEventLoopDelay, performance } from "node:perf_hooks";

export interface EventLoopReport<T> {
  result: T;
  /** Timer lateness on this thread while `run` ran, ms: the interval's excess over its 10 ms. */
  delay: { p50: number; p99: number; max: number };
  /** Share of the time this thread was busy (not waiting for I/O), 0..1. */
  utilization: number;
}

const RESOLUTION_MS = 10;

/** Runs `run` while watching this thread's event loop: how late timers fire and how busy it is. */
export async function watchEventLoop<T>(run: () => Promise<T>): Promise<EventLoopReport<T>> {
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  const before = performance.eventLoopUtilization();
  histogram.enable();
  try {
    const result = await run();
    histogram.disable();
    const late = (ns: number) => Math.max(0, ns / 1e6 - RESOLUTION_MS);
    return {
      result,
      delay: {
        p50: late(histogram.percentile(50)),
        p99: late(histogram.percentile(99)),
        max: late(histogram.max),
      },
      utilization: performance.eventLoopUtilization(before).utilization,
    };
  } finally {
    histogram.disable();
  }
}
