/**
 * Outside production only: how late this process's event loop has been, for the benchmark that
 * watches the API while media work runs (bench/api-under-render.bench.ts). Each call returns the
 * figures since the previous call and starts a new window.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import type { FastifyInstance } from "fastify";
import type { Services } from "../container.js";
import { apiKeyGuard } from "./auth.js";
import type { RequestGuard } from "./request-guard.js";

/** The sampling timer's period; lateness is the excess over it. */
const RESOLUTION_MS = 10;

export interface EventLoopWindow {
  /** Timer lateness in ms (how long a ready callback waited for the thread), by percentile. */
  p50: number;
  p99: number;
  max: number;
  /** The raw histogram's p99 as perf_hooks reports it (period included), ms. */
  rawP99: number;
  resolutionMs: number;
  samples: number;
  windowMs: number;
}

export async function registerDebugRoutes(
  app: FastifyInstance,
  deps: { services: Services; requestGuard: RequestGuard },
): Promise<void> {
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  histogram.enable();
  let windowStart = performance.now();
  app.addHook("onClose", async () => histogram.disable());
  const guard = apiKeyGuard(deps.requestGuard, "rest");
  app.get("/v1/debug/event-loop", { preHandler: guard }, async (): Promise<EventLoopWindow> => {
    const ms = (ns: number) => Math.round((ns / 1e6) * 100) / 100;
    const late = (ns: number) => Math.max(0, ms(ns) - RESOLUTION_MS);
    const window: EventLoopWindow = {
      p50: late(histogram.percentile(50)),
      p99: late(histogram.percentile(99)),
      max: late(histogram.max),
      rawP99: ms(histogram.percentile(99)),
      resolutionMs: RESOLUTION_MS,
      samples: histogram.count,
      windowMs: Math.round(performance.now() - windowStart),
    };
    histogram.reset();
    windowStart = performance.now();
    return window;
  });
}
