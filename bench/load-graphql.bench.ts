/**
 * `npm run bench -- load` (issue 10). Its GraphQL part, here: a real `propvid serve --role all` on
 * loopback, a closed loop of concurrent clients sending one query as fast as answers come, for
 * a fixed time per query: `viewer` (the guard, key cache and a trivial resolver) and a campaign
 * page (20 campaigns with 6 photos each: cost 301, loaders, the database). Figures: requests/s,
 * client latency p50/p99, errors (non-200 or GraphQL errors), the server's CPU time per request
 * (independent of how busy the machine is) and its RSS before and after.
 * The cost budget is off here (GRAPHQL_COST_PER_MINUTE=0): a key at this rate would be refused
 * after its 50,000 units a minute, which is the point of the budget but not of this measurement.
 * Then, on the same server, 1 MiB media ranges (load-media-ranges.ts), and on a second server
 * started `--role api`, bursts of createVideoJob from three tenants (load-video-jobs.ts).
 */
import { readFile } from "node:fs/promises";
import {
  type BenchServer,
  closedLoop,
  formatLatency,
  latency,
  rssMiB,
  startBenchServer,
} from "./bench-server.js";
import type { Benchmark } from "./benchmarks.js";
import { mediaRangesLoad } from "./load-media-ranges.js";
import { videoJobsLoad } from "./load-video-jobs.js";

const CLIENTS = 8;
const SECONDS = 15;

const QUERIES = {
  viewer: "{ viewer { tenant { name } apiKey { prefix } } }",
  "campaign page": `{ campaigns(first: 20) { edges { node { id name assets(first: 6) { edges { node { id status } } } } }
    pageInfo { endCursor hasNextPage } } }`,
};

/** CPU time (user + system) a process has used, in ms (Linux /proc, 10 ms ticks). */
async function cpuMs(pid: number | undefined): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, "utf8")).split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Server CPU ms per second while no client sends anything (pg-boss polling, timers). */
async function idleCpuPerSecond(pid: number | undefined): Promise<number> {
  const before = await cpuMs(pid);
  await new Promise((resolve) => setTimeout(resolve, 5_000));
  return ((await cpuMs(pid)) - before) / 5;
}

async function load(server: BenchServer, query: string, idlePerSecond: number): Promise<string> {
  const pid = server.process.child.pid;
  const cpuBefore = await cpuMs(pid);
  const body = JSON.stringify({ query });
  const { samples, errors } = await closedLoop(CLIENTS, SECONDS, async () => {
    const response = await fetch(`${server.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": server.key },
      body,
    });
    const result = (await response.json()) as { errors?: unknown[] };
    return response.status === 200 && !result.errors;
  });
  const perSecond = samples.length / SECONDS;
  // Server CPU per request: what the figures above come to on a machine shared with other work.
  const cpuPerRequest = ((await cpuMs(pid)) - cpuBefore - idlePerSecond * SECONDS) / samples.length;
  return `${perSecond.toFixed(0)} req/s, ${formatLatency(latency(samples))}, errors ${errors}, server CPU ${cpuPerRequest.toFixed(2)} ms/request`;
}

export const loadGraphQLBenchmark: Benchmark = {
  name: "load",
  description: `GraphQL, media ranges and createVideoJob over HTTP on loopback: ${CLIENTS} clients in a closed loop, ${SECONDS} s per query`,
  async run() {
    const lines: string[] = [];
    const server = await startBenchServer("load-graphql", undefined, { GRAPHQL_COST_PER_MINUTE: "0" });
    try {
      // Nineteen more campaigns, so the page is a full 20.
      for (let i = 0; i < 19; i++)
        await server.query(`mutation { createCampaign(input: { name: "Bench house ${i}" }) { id } }`);
      const pid = server.process.child.pid;
      const idle = await idleCpuPerSecond(pid);
      lines.push(
        `server RSS before: ${(await rssMiB(pid)).toFixed(0)} MiB; idle server CPU ${idle.toFixed(0)} ms/s (subtracted below)`,
      );
      for (const [name, query] of Object.entries(QUERIES)) {
        await server.query(query);
        lines.push(`${name}: ${await load(server, query, idle)}`);
        lines.push(`  server RSS after: ${(await rssMiB(pid)).toFixed(0)} MiB`);
      }
      lines.push(...(await mediaRangesLoad(server, CLIENTS, SECONDS)));
    } finally {
      await server.stop();
    }
    lines.push(...(await videoJobsLoad()));
    return lines;
  },
};
