/**
 * `npm run bench -- load`, the GraphQL part (issue 10): a real `propvid serve --role all` on
 * loopback, a closed loop of concurrent clients sending one query as fast as answers come, for
 * a fixed time per query: `viewer` (the guard, key cache and a trivial resolver) and a campaign
 * page (20 campaigns with 6 photos each: cost 301, loaders, the database). Figures: requests/s,
 * client latency p50/p99, errors (non-200 or GraphQL errors), and the server's RSS before and after.
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

async function load(server: BenchServer, query: string): Promise<string> {
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
  return `${perSecond.toFixed(0)} req/s, ${formatLatency(latency(samples))}, errors ${errors}`;
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
      const lines = [`server RSS before: ${(await rssMiB(pid)).toFixed(0)} MiB`];
      for (const [name, query] of Object.entries(QUERIES)) {
        await server.query(query);
        lines.push(`${name}: ${await load(server, query)}`);
        lines.push(`  server RSS after: ${(await rssMiB(pid)).toFixed(0)} MiB`);
      }
      return lines;
    } finally {
      await server.stop();
    }
  },
};
