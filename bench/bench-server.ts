/**
 * A real propvid for benchmarks: `propvid serve --role all` in its own process (the CLI's boot,
 * an embedded PostgreSQL in a scratch directory), driven over HTTP like a client would: the admin
 * key the first start writes to the data dir, a campaign, the fixture photos uploaded by multipart.
 */
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fixturePhoto } from "../test/helpers/fixtures.js";
import { SEVEN_SCENE_PHOTOS } from "../test/helpers/pipeline.js";
import {
  childEnv,
  gql,
  runCli,
  type ServerProcess,
  startServerProcess,
} from "../test/helpers/server-process.js";

export interface BenchServer {
  url: string;
  key: string;
  campaignId: string;
  process: ServerProcess;
  /** GraphQL as this tenant; throws on errors. */
  query<T>(query: string, variables?: Record<string, unknown>): Promise<T>;
  /** A new key (read, write) for another tenant, created by `propvid keys create` on this data dir. */
  keyForTenant(tenant: string): Promise<string>;
  stop(): Promise<void>;
}

const ADMIN_KEY = /^(pv_[0-9a-f]{10}_[A-Za-z0-9_-]{43})$/m;

/** Starts the server on a fresh data dir and uploads the photos (default: the seven-scene set). */
export async function startBenchServer(
  name: string,
  photos = SEVEN_SCENE_PHOTOS,
  /** Settings for this benchmark's server on top of the defaults below. */
  env: Record<string, string> = {},
  /** `api` leaves created jobs QUEUED: no worker in the process renders them. */
  role: "all" | "api" = "all",
): Promise<BenchServer> {
  const scratch = mkdtempSync(path.join(os.tmpdir(), `propvid-${name}-`));
  chmodSync(scratch, 0o755); // the postgres system user must be able to enter it
  let child: ServerProcess | undefined;
  try {
    const dataDir = path.join(scratch, "data");
    const serverEnv = childEnv({
      PROPVID_DATA_DIR: dataDir,
      NODE_ENV: "development",
      LOG_LEVEL: "info",
      RATE_LIMIT_PER_MINUTE: "0",
      ...env,
    });
    child = await startServerProcess(serverEnv, ["--role", role], 180_000);
    // Not a TTY, so the first start writes the admin key to a 0600 file in the data dir, not to stdout.
    const key = ADMIN_KEY.exec(await readFile(path.join(dataDir, "admin-key"), "utf8"))?.[1];
    if (!key) throw new Error(`no admin key in the data dir:\n${child.output()}`);
    const url = child.url;
    const query = async <T>(text: string, variables?: Record<string, unknown>): Promise<T> => {
      const { status, body } = await gql<T>(url, key, text, variables);
      if (status !== 200 || body.errors || !body.data)
        throw new Error(`GraphQL ${status}: ${JSON.stringify(body)}`);
      return body.data;
    };
    const { createCampaign } = await query<{ createCampaign: { id: string } }>(
      'mutation { createCampaign(input: { name: "Bench house" }) { id } }',
    );
    await uploadPhotos(url, key, createCampaign.id, photos);
    const running = child;
    return {
      url,
      key,
      campaignId: createCampaign.id,
      process: running,
      query,
      async keyForTenant(tenant) {
        // The CLI attaches to the server's embedded PostgreSQL under the same data dir.
        const created = await runCli(
          ["keys", "create", "--tenant", tenant, "--scopes", "read,write"],
          serverEnv,
        );
        if (created.code !== 0) throw new Error(`keys create --tenant ${tenant}: ${created.stderr}`);
        return created.stdout.trim();
      },
      async stop() {
        await running.stop();
        rmSync(scratch, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await child?.stop();
    rmSync(scratch, { recursive: true, force: true });
    throw error;
  }
}

async function uploadPhotos(url: string, key: string, campaignId: string, names: string[]): Promise<void> {
  const form = new FormData();
  for (const name of names) {
    form.append("photo", new Blob([await readFile(fixturePhoto(name))], { type: "image/jpeg" }), name);
  }
  const response = await fetch(`${url}/v1/campaigns/${campaignId}/assets`, {
    method: "POST",
    headers: { "x-api-key": key },
    body: form,
  });
  const body = (await response.json()) as { results?: { asset?: { status: string } }[] };
  const ready = body.results?.filter((result) => result.asset?.status === "READY").length ?? 0;
  if (response.status !== 200 || ready < 7) {
    throw new Error(`upload: ${response.status} ${JSON.stringify(body)}`);
  }
}

export interface JobOutcome {
  status: string;
  /** Server-side wall time, createdAt → finishedAt. */
  seconds: number;
  videoSeconds: number | null;
  /** When the client first saw each status (s after the mutation returned; polled every 100 ms). */
  seen: Record<string, number>;
}

/** Creates a 7-scene job with the embedded providers and polls it to the end. */
export async function renderJob(server: BenchServer, timeoutMs = 1_200_000): Promise<JobOutcome> {
  const { createVideoJob } = await server.query<{ createVideoJob: { id: string } }>(
    "mutation($c: ID!) { createVideoJob(input: { campaignId: $c, sceneCount: 7 }) { id } }",
    { c: server.campaignId },
  );
  const started = performance.now();
  const seen: Record<string, number> = {};
  for (;;) {
    const { videoJob } = await server.query<{
      videoJob: {
        status: string;
        error: string | null;
        createdAt: string;
        finishedAt: string | null;
        video: { durationSeconds: number } | null;
      };
    }>(
      "query($j: ID!) { videoJob(id: $j) { status error createdAt finishedAt video { durationSeconds } } }",
      { j: createVideoJob.id },
    );
    const at = (performance.now() - started) / 1000;
    seen[videoJob.status] ??= at;
    if (["SUCCEEDED", "FAILED", "CANCELLED"].includes(videoJob.status)) {
      if (videoJob.status !== "SUCCEEDED") throw new Error(`job ended ${videoJob.status}: ${videoJob.error}`);
      return {
        status: videoJob.status,
        seconds: (Date.parse(videoJob.finishedAt!) - Date.parse(videoJob.createdAt)) / 1000,
        videoSeconds: videoJob.video?.durationSeconds ?? null,
        seen,
      };
    }
    if (performance.now() - started > timeoutMs) throw new Error(`job still ${videoJob.status}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export interface Latency {
  p50: number;
  p99: number;
  max: number;
  count: number;
}

/** Nearest-rank percentiles of latencies in ms. */
export function latency(samples: readonly number[]): Latency {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
  return { p50: at(0.5), p99: at(0.99), max: sorted.at(-1)!, count: sorted.length };
}

/** A process's resident memory in MiB (Linux /proc). */
export async function rssMiB(pid: number | undefined): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kib = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1]);
  return kib / 1024;
}

/**
 * `clients` concurrent loops, each sending its next request as soon as the last one is answered,
 * for `seconds`: every request's latency, and how many failed (`request` resolved false or threw).
 */
export async function closedLoop(
  clients: number,
  seconds: number,
  request: () => Promise<boolean>,
): Promise<{ samples: number[]; errors: number }> {
  const samples: number[] = [];
  let errors = 0;
  const until = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < until) {
        const started = performance.now();
        try {
          if (!(await request())) errors++;
        } catch {
          errors++;
        }
        samples.push(performance.now() - started);
      }
    }),
  );
  return { samples, errors };
}

export const formatLatency = (l: Latency): string =>
  `p50 ${l.p50.toFixed(1)} / p99 ${l.p99.toFixed(1)} / max ${l.max.toFixed(1)} ms (n=${l.count})`;
