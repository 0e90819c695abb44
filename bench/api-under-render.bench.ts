/**
 * The API while a video renders in the same process (issue 9, point 4): a real `propvid serve
 * --role all`, two clients each sending a trivial GraphQL query and a 1 MB media range request
 * (`GET /v1/media/:id` with its signed URL and `Range`) in a loop, first idle, then while a
 * 7-scene job renders with the embedded providers. Figures: client latency p50/p99/max per
 * request kind and phase, and the server's event-loop lateness (perf_hooks
 * monitorEventLoopDelay, read from the test-only GET /v1/debug/event-loop).
 */
import { Agent, request as httpRequest } from "node:http";
import os from "node:os";
import { defaultRenderConcurrency } from "../src/config.js";
import type { EventLoopWindow } from "../src/http/debug.routes.js";
import { SEVEN_SCENE_PHOTOS } from "../test/helpers/pipeline.js";
import {
  type BenchServer,
  formatLatency,
  type JobOutcome,
  type Latency,
  latency,
  renderJob,
  startBenchServer,
} from "./bench-server.js";
import type { Benchmark } from "./benchmarks.js";

const CLIENTS = 2;
const RANGE_BYTES = 1024 * 1024;
const IDLE_SECONDS = 10;
/** Pause between one client's requests: a busy but not saturating client (~40 requests/s in all). */
const THINK_MS = 25;
const TRIVIAL = "{ viewer { tenant { name } } }";

interface PhaseResult {
  graphql: Latency;
  range: Latency;
  eventLoop: EventLoopWindow;
  /** Wall-clock window of the phase, to find the server's own log lines of it. */
  from: number;
  to: number;
}

/**
 * The server's own time for each request of a window, from its log (Fastify's `responseTime`
 * on "request completed", the URL from the matching "incoming request"): what of the client's
 * latency the server spent between reading the request and finishing the response.
 */
function serverTimes(output: string, from: number, to: number): { graphql: Latency; range: Latency } {
  const urls = new Map<string, string>();
  const graphql: number[] = [];
  const range: number[] = [];
  for (const line of output.split("\n")) {
    if (!line.startsWith("{")) continue;
    let entry: { time?: number; reqId?: string; msg?: string; req?: { url?: string }; responseTime?: number };
    try {
      entry = JSON.parse(line);
    } catch {
      continue;
    }
    if (!entry.reqId) continue;
    if (entry.msg === "incoming request" && entry.req?.url) urls.set(entry.reqId, entry.req.url);
    if (entry.msg !== "request completed" || entry.responseTime === undefined) continue;
    if (!(entry.time! >= from && entry.time! <= to)) continue;
    const url = urls.get(entry.reqId) ?? "";
    if (url.startsWith("/graphql")) graphql.push(entry.responseTime);
    else if (url.startsWith("/v1/media/")) range.push(entry.responseTime);
  }
  return { graphql: latency(graphql), range: latency(range) };
}

/** The signed URL of the largest photo (≥ 1 MB, so the range is a full 1 MB). */
async function largeMediaUrl(server: BenchServer): Promise<string> {
  const { campaign } = await server.query<{
    campaign: { assets: { edges: { node: { filename: string; url: string | null } }[] } };
  }>("query($c: ID!) { campaign(id: $c) { assets(first: 50) { edges { node { filename url } } } } }", {
    c: server.campaignId,
  });
  const urls = campaign.assets.edges.map((edge) => edge.node.url).filter((url): url is string => !!url);
  const sizes = await Promise.all(
    urls.map(async (url) => Number((await fetch(url, { method: "HEAD" })).headers.get("content-length"))),
  );
  const best = sizes.indexOf(Math.max(...sizes));
  if (!(sizes[best]! >= RANGE_BYTES)) throw new Error(`no photo of 1 MB or more (largest ${sizes[best]} B)`);
  return urls[best]!;
}

/**
 * One request through node:http with a keep-alive agent, counting the body's bytes and keeping
 * none of them. (`fetch` with `arrayBuffer()` cost the client half a core at this rate, on the
 * same two cores as the server it measures.)
 */
function send(
  agent: Agent,
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { agent, method: options.method ?? "GET", headers: options.headers },
      (res) => {
        let bytes = 0;
        res.on("data", (chunk: Buffer) => {
          bytes += chunk.length;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, bytes }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

async function eventLoop(server: BenchServer): Promise<EventLoopWindow> {
  const response = await fetch(`${server.url}/v1/debug/event-loop`, { headers: { "x-api-key": server.key } });
  if (response.status !== 200) throw new Error(`debug endpoint: ${response.status}`);
  return (await response.json()) as EventLoopWindow;
}

/** Runs the clients until `done` resolves; returns their latencies and the server's event loop. */
async function phase(server: BenchServer, mediaUrl: string, done: Promise<unknown>): Promise<PhaseResult> {
  let finished = false;
  const stop = () => {
    finished = true;
  };
  done.then(stop, stop); // a failure surfaces through Promise.all below
  await eventLoop(server); // starts the server's window
  const from = Date.now();
  const graphql: number[] = [];
  const range: number[] = [];
  const client = async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const body = JSON.stringify({ query: TRIVIAL });
    const headers = { "content-type": "application/json", "x-api-key": server.key };
    try {
      while (!finished) {
        let started = performance.now();
        const answer = await send(agent, `${server.url}/graphql`, { method: "POST", headers, body });
        graphql.push(performance.now() - started);
        if (answer.status !== 200) throw new Error(`GraphQL ${answer.status}`);
        started = performance.now();
        const media = await send(agent, mediaUrl, { headers: { range: `bytes=0-${RANGE_BYTES - 1}` } });
        range.push(performance.now() - started);
        if (media.status !== 206 || media.bytes !== RANGE_BYTES)
          throw new Error(`range: ${media.status}, ${media.bytes} B`);
        await new Promise((resolve) => setTimeout(resolve, THINK_MS));
      }
    } finally {
      agent.destroy();
    }
  };
  await Promise.all([done, ...Array.from({ length: CLIENTS }, client)]);
  const to = Date.now();
  return { graphql: latency(graphql), range: latency(range), eventLoop: await eventLoop(server), from, to };
}

const ok = (met: boolean) => (met ? "OK" : "NOT MET");

async function run(): Promise<string[]> {
  // exterior-04.jpg (1.4 MB) is there for the 1 MB range requests.
  const server = await startBenchServer("api-bench", [...SEVEN_SCENE_PHOTOS, "exterior-04.jpg"]);
  try {
    const mediaUrl = await largeMediaUrl(server);
    // Warm-up (JIT, connection pools), not counted.
    await phase(server, mediaUrl, new Promise((resolve) => setTimeout(resolve, 2_000)));
    const idle = await phase(
      server,
      mediaUrl,
      new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 1000)),
    );
    let job: JobOutcome | undefined;
    const rendering = await phase(
      server,
      mediaUrl,
      renderJob(server).then((outcome) => {
        job = outcome;
      }),
    );
    const lines = [
      `${os.availableParallelism()} cores, RENDER_CONCURRENCY ${process.env.RENDER_CONCURRENCY || `default (${defaultRenderConcurrency("all")} in --role all)`}; ${CLIENTS} clients, ${THINK_MS} ms between requests`,
      `render: 7 scenes, ${job!.seconds.toFixed(1)} s for a ${job!.videoSeconds} s video`,
    ];
    for (const [name, result] of [
      ["idle", idle],
      ["during render", rendering],
    ] as const) {
      lines.push(`${name}:`);
      lines.push(`  trivial GraphQL query:  ${formatLatency(result.graphql)}`);
      lines.push(`  1 MB media range:       ${formatLatency(result.range)}`);
      const own = serverTimes(server.process.output(), result.from, result.to);
      lines.push(
        `  server's own time (its log): GraphQL ${formatLatency(own.graphql)}; range ${formatLatency(own.range)}`,
      );
      const loop = result.eventLoop;
      lines.push(
        `  server event loop: lateness p50 ${loop.p50.toFixed(1)} / p99 ${loop.p99.toFixed(1)} / max ${loop.max.toFixed(1)} ms ` +
          `(raw histogram p99 ${loop.rawP99.toFixed(1)} ms at ${loop.resolutionMs} ms resolution, ${loop.samples} samples)`,
      );
    }
    for (const kind of ["graphql", "range"] as const) {
      const during = rendering[kind].p99;
      const ratio = during / idle[kind].p99;
      lines.push(
        `${kind === "graphql" ? "GraphQL" : "range"} p99 during render ${during.toFixed(1)} ms (goal ≤ 50) ${ok(during <= 50)}, ` +
          `${ratio.toFixed(2)}× idle (goal ≤ 3×) ${ok(ratio <= 3)}`,
      );
    }
    const loopP99 = rendering.eventLoop.p99;
    lines.push(
      `event-loop delay p99 during render ${loopP99.toFixed(1)} ms (goal ≤ 20) ${ok(loopP99 <= 20)}`,
    );
    return lines;
  } finally {
    await server.stop();
  }
}

export const apiUnderRenderBenchmark: Benchmark = {
  name: "api-under-render",
  description: "API latency and event-loop delay, idle vs during a 7-scene render in one --role all process",
  run,
};
