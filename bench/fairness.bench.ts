/**
 * Fair queues (issue 13): tenant B's one job on an idle system, then behind tenant A's 20 jobs,
 * with a video provider that takes exactly 4 s per clip (the scenario of
 * test/integration/fair-queues.test.ts). Goal: B's job within 2× its idle time.
 */
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { startEmbeddedPostgres } from "../src/db/embedded-postgres.js";
import { silentLogger } from "../src/logger.js";
import {
  FAIRNESS_SETTINGS,
  fairnessProviders,
  jobSeconds,
  runFairnessScenario,
  SCENE_SECONDS,
  SLOTS_OF_A,
} from "../test/helpers/fairness.js";
import { startBenchApp } from "./bench-app.js";
import type { Benchmark } from "./benchmarks.js";

async function run(): Promise<string[]> {
  const scratch = mkdtempSync(path.join(os.tmpdir(), "propvid-fairness-bench-"));
  chmodSync(scratch, 0o755);
  const server = await startEmbeddedPostgres({
    dataDir: path.join(scratch, "postgres"),
    logger: silentLogger,
    settings: { fsync: "off", synchronous_commit: "off" },
  });
  try {
    const app = await startBenchApp({
      databaseUrl: server.url,
      role: "worker",
      env: { ...FAIRNESS_SETTINGS, PATH: process.env.PATH ?? "" },
      poolSize: 10,
      providers: fairnessProviders(scratch),
    });
    try {
      const { idle, loaded, batch } = await runFairnessScenario(app.services, {
        a: "tenant-a",
        b: "tenant-b",
      });
      const ratio = jobSeconds(loaded) / jobSeconds(idle);
      const waiting = batch.filter((job) => job.stage === "waiting_for_slot").length;
      return [
        `B's 2-scene job (${SCENE_SECONDS} s per clip, ${FAIRNESS_SETTINGS.RENDER_CONCURRENCY} render slots): idle ${jobSeconds(idle).toFixed(2)} s, ` +
          `behind A's 20 jobs ${jobSeconds(loaded).toFixed(2)} s: ${ratio.toFixed(2)}× (goal ≤ 2×) ${ratio <= 2 ? "OK" : "NOT MET"}`,
        `  A: at most ${SLOTS_OF_A} job(s) running at once (its quota), ${waiting} of 20 created waiting_for_slot`,
      ];
    } finally {
      await app.stop({ graceful: false });
    }
  } finally {
    await server.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

export const fairnessBenchmark: Benchmark = {
  name: "fairness",
  description: "fair queues: one tenant's job behind another tenant's 20, vs idle",
  run,
};
