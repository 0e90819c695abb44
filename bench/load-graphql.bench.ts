/**
 * `npm run bench -- load`, the GraphQL part (issue 10): a real `propvid serve --role all` on
 * loopback, a closed loop of concurrent clients sending one query as fast as answers come, for
 * a fixed time per query: `viewer` (the guard, key cache and a trivial resolver) and a campaign
 * page (20 campaigns with 6 photos each: cost 301, loaders, the database). Figures: requests/s,
 * client latency p50/p99, errors (non-200 or GraphQL errors), the server's CPU time per request
 * (independent of how busy the machine is) and its RSS before and after.
 * The cost budget is off here (GRAPHQL_COST_PER_MINUTE=0): a key at this rate would be refused
 * after its 50,000 units a minute, which is the point of the budget but not of this measurement.
 */
import { readFile } from "node:fs/promises";
import { type BenchServer, formatLatency, latency, startBenchServer } from "./bench-server.js";
import type { Benchmark } from "./benchmarks.js";

const CLIENTS = 8;
const SECONDS = 15;

const QUERIES = {
  viewer: "{ viewer { tenant { name } apiKey { prefix } } }",
  "campaign page": `{ campaigns(first: 20) { edges { node { id name assets(first: 6) { edges { node { id status } } } } }
    pageInfo { endCursor hasNextPage } } }`,
};

async function rssMiB(pid: number | undefined): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kib = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1]);
  return kib / 1024;
}

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
  const samples: number[] = [];
  let errors = 0;
  const until = performance.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (performance.now() < until) {
        const started = performance.now();
        try {
          const response = await fetch(`${server.url}/graphql`, {
            method: "POST",
            headers: { "content-type": "application/json", "x-api-key": server.key },
            body,
          });
          const result = (await response.json()) as { errors?: unknown[] };
          if (response.status !== 200 || result.errors) errors++;
        } catch {
          errors++;
        }
        samples.push(performance.now() - started);
      }
    }),
  );
  const perSecond = samples.length / SECONDS;
  // Server CPU per request: what the figures above come to on a machine shared with other work.
  const cpuPerRequest = ((await cpuMs(pid)) - cpuBefore - idlePerSecond * SECONDS) / samples.length;
  return `${perSecond.toFixed(0)} req/s, ${formatLatency(latency(samples))}, errors ${errors}, server CPU ${cpuPerRequest.toFixed(2)} ms/request`;
}

export const loadGraphQLBenchmark: Benchmark = {
  name: "load",
  description: `GraphQL over HTTP on loopback: ${CLIENTS} clients in a closed loop, ${SECONDS} s per query`,
  async run() {
    const server = await startBenchServer("load-graphql", undefined, { GRAPHQL_COST_PER_MINUTE: "0" });
    try {
      // Nineteen more campaigns, so the page is a full 20.
      for (let i = 0; i < 19; i++)
        await server.query(`mutation { createCampaign(input: { name: "Bench house ${i}" }) { id } }`);
      const pid = server.process.child.pid;
      const idle = await idleCpuPerSecond(pid);
      const lines = [
        `server RSS before: ${(await rssMiB(pid)).toFixed(0)} MiB; idle server CPU ${idle.toFixed(0)} ms/s (subtracted below)`,
      ];
      for (const [name, query] of Object.entries(QUERIES)) {
        await server.query(query);
        lines.push(`${name}: ${await load(server, query, idle)}`);
        lines.push(`  server RSS after: ${(await rssMiB(pid)).toFixed(0)} MiB`);
      }
      return lines;
    } finally {
      await server.stop();
    }
  },
};
