import { apiUnderRenderBenchmark } from "./api-under-render.bench.js";
import { deliveryBenchmark } from "./delivery.bench.js";
import { fairnessBenchmark } from "./fairness.bench.js";
import { listingVideoBenchmark } from "./listing-video.bench.js";
import { loadGraphQLBenchmark } from "./load-graphql.bench.js";
import { mediaStreamingBenchmark } from "./media-streaming.bench.js";
import { overlaysBenchmark } from "./overlays.bench.js";
import { photoIngestBenchmark } from "./photo-ingest.bench.js";
import { pipelineBenchmark } from "./pipeline.bench.js";
import { renderCpuBenchmark } from "./render-cpu.bench.js";
import { renderEndToEndBenchmark } from "./render-end-to-end.bench.js";
import { subscriptionsBenchmark } from "./subscriptions.bench.js";
import { webConsoleBenchmark } from "./web-console.bench.js";
import { webhookWakeBenchmark } from "./webhook-wake.bench.js";
import { webhooksBenchmark } from "./webhooks.bench.js";

/** One benchmark: a name for `npm run bench -- NAME`, and a run that returns printable lines. */
export interface Benchmark {
  name: string;
  description: string;
  run(): Promise<string[]>;
}

export const BENCHMARKS: Benchmark[] = [
  mediaStreamingBenchmark,
  pipelineBenchmark,
  subscriptionsBenchmark,
  overlaysBenchmark,
  apiUnderRenderBenchmark,
  renderEndToEndBenchmark,
  renderCpuBenchmark,
  webhookWakeBenchmark,
  webConsoleBenchmark,
  loadGraphQLBenchmark,
  webhooksBenchmark,
  listingVideoBenchmark,
  fairnessBenchmark,
  deliveryBenchmark,
  photoIngestBenchmark,
];
