/**
 * `npm run bench -- load`, the job part: `createVideoJob` 10 at a time from 3 tenants (the
 * first-start admin tenant and two made with `propvid keys create`, each with a campaign of the
 * seven fixture photos uploaded through the multipart route), for a few rounds. The server runs
 * `--role api`, so no worker renders: the jobs stay QUEUED (what a burst meets when the workers
 * are busy) and are cancelled after each round, untimed, so that every round starts alike.
 * Each mutation has its own idempotency key, so every one creates a job.
 */
import { SEVEN_SCENE_PHOTOS } from "../test/helpers/pipeline.js";
import { campaignThroughApi, gql } from "../test/helpers/server-process.js";
import { formatLatency, latency, rssMiB, startBenchServer } from "./bench-server.js";

const TENANTS = ["load-tenant-b", "load-tenant-c"];
const AT_ONCE = 10;
const ROUNDS = 20;

const CREATE = `mutation($c: ID!, $k: String) {
  createVideoJob(idempotencyKey: $k, input: { campaignId: $c }) { id status } }`;

interface Tenant {
  key: string;
  campaignId: string;
}

export async function videoJobsLoad(): Promise<string[]> {
  const server = await startBenchServer("load-jobs", undefined, {}, "api");
  try {
    const tenants: Tenant[] = [{ key: server.key, campaignId: server.campaignId }];
    for (const name of TENANTS) {
      const key = await server.keyForTenant(name);
      tenants.push({
        key,
        campaignId: await campaignThroughApi(server.url, key, `${name} house`, SEVEN_SCENE_PHOTOS),
      });
    }
    const pid = server.process.child.pid;
    const rssBefore = await rssMiB(pid);
    const samples: number[] = [];
    const statuses = new Set<string>();
    let errors = 0;
    let wallMs = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const started = performance.now();
      const created = await Promise.all(
        Array.from({ length: AT_ONCE }, async (_, i) => {
          const tenant = tenants[i % tenants.length]!;
          const sent = performance.now();
          try {
            const { status, body } = await gql<{ createVideoJob: { id: string; status: string } }>(
              server.url,
              tenant.key,
              CREATE,
              { c: tenant.campaignId, k: `load-${round}-${i}` },
            );
            if (status !== 200 || body.errors || !body.data) throw new Error(JSON.stringify(body));
            statuses.add(body.data.createVideoJob.status);
            return { tenant, id: body.data.createVideoJob.id };
          } catch {
            errors++;
            return undefined;
          } finally {
            samples.push(performance.now() - sent);
          }
        }),
      );
      wallMs += performance.now() - started;
      for (const job of created) {
        if (!job) continue;
        const { body } = await gql(
          server.url,
          job.tenant.key,
          "mutation($j: ID!) { cancelVideoJob(id: $j) { status } }",
          {
            j: job.id,
          },
        );
        if (body.errors) throw new Error(`cancel: ${JSON.stringify(body.errors)}`);
      }
    }
    return [
      `createVideoJob, ${AT_ONCE} at once from ${tenants.length} tenants × ${ROUNDS} rounds (--role api: jobs stay QUEUED, cancelled between rounds):`,
      `  ${((samples.length / wallMs) * 1000).toFixed(0)} req/s, ${formatLatency(latency(samples))}, errors ${errors}, created as ${[...statuses].join("/")}`,
      `  server RSS before/after: ${rssBefore.toFixed(0)} / ${(await rssMiB(pid)).toFixed(0)} MiB`,
    ];
  } finally {
    await server.stop();
  }
}
