import {
  FAIRNESS_SETTINGS,
  fairnessProviders,
  jobSeconds,
  runFairnessScenario,
  SCENE_SECONDS,
  SLOTS_OF_A,
} from "../test/helpers/fairness.js";
import { withBenchApp } from "./bench-app.js";
import type { Benchmark } from "./benchmarks.js";

async function run(): Promise<string[]> {
  return await withBenchApp(
    "fairness",
    {
      role: "worker",
      env: { ...FAIRNESS_SETTINGS, PATH: process.env.PATH ?? "" },
      poolSize: 10,
      providers: fairnessProviders,
    },
    async (app) => {
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
    },
  );
}

export const fairnessBenchmark: Benchmark = {
  name: "fairness",
  description: "fair queues: one tenant's job behind another tenant's 20, vs idle",
  run,
};
