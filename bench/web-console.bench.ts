/**
 * Web console benchmarks (issue: the web console):
 * - initial JavaScript of the console and of GraphiQL (what their index.html loads), gzip and
 *   Brotli, against the 200 kB gzip budget for the console's first load;
 * - navigation → interactive campaign page with 30 photos (all 30 listed, the thumbnails on screen
 *   decoded, "Make video" enabled) in Chromium on loopback, cold and warm cache, against the same
 *   page with no photos;
 * - progress latency on screen: a worker's SCENE_UPDATED event (its `at`) → the scene's progress
 *   bar showing it (aria-valuenow), against the same events reaching a Node graphql-ws client.
 * The service runs as in production: `--role api` and `--role worker` processes on one embedded
 * PostgreSQL; photos go in through the REST upload, the job through GraphQL.
 */

import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { brotliCompressSync, gzipSync } from "node:zlib";
import { createClient } from "graphql-ws";
import type { Page } from "playwright-core";
import WebSocket from "ws";
import { startEmbeddedPostgres } from "../src/db/embedded-postgres.js";
import { silentLogger } from "../src/logger.js";
import { openBrowser, progressSamples, recordProgress, signIn } from "../test/helpers/browser.js";
import { FIXTURE_PHOTOS_DIR, fixturePhotoNames, isKeeper, PROJECT_ROOT } from "../test/helpers/fixtures.js";
import {
  childEnv,
  gql,
  runCli,
  type ServerProcess,
  startServerProcess,
  startWorkerProcess,
} from "../test/helpers/server-process.js";
import type { Benchmark } from "./benchmarks.js";

const BUDGET_GZIP_BYTES = 200 * 1000;
const NAVIGATIONS = 10;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function summary(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  return `p50 ${percentile(sorted, 50).toFixed(0)} ms, p99 ${percentile(sorted, 99).toFixed(0)} ms, max ${sorted.at(-1)!.toFixed(0)} ms (n=${sorted.length})`;
}

const kB = (bytes: number) => `${(bytes / 1000).toFixed(1)} kB`;

/** The scripts and stylesheets an index.html loads up front (entry and modulepreloads). */
function initialAssets(dir: string): { js: Buffer[]; css: Buffer[] } {
  const html = readFileSync(path.join(dir, "index.html"), "utf8");
  const urls = [...html.matchAll(/(?:src|href)="([^"]+\.(?:js|css))"/g)].map((match) => match[1]!);
  const read = (url: string) =>
    readFileSync(path.join(dir, url.replace(/^\/graphiql\//, "/").replace(/^\//, "")));
  return {
    js: urls.filter((url) => url.endsWith(".js")).map(read),
    css: urls.filter((url) => url.endsWith(".css")).map(read),
  };
}

function sizes(files: Buffer[]): { raw: number; gzip: number; brotli: number } {
  return files.reduce(
    (sum, bytes) => ({
      raw: sum.raw + bytes.length,
      gzip: sum.gzip + gzipSync(bytes, { level: 9 }).length,
      brotli: sum.brotli + brotliCompressSync(bytes).length,
    }),
    { raw: 0, gzip: 0, brotli: 0 },
  );
}

function bundleLines(): string[] {
  const lines: string[] = [];
  for (const [name, dir] of [
    ["console", path.join(PROJECT_ROOT, "dist", "console")],
    ["GraphiQL", path.join(PROJECT_ROOT, "dist", "graphiql")],
  ] as const) {
    const { js, css } = initialAssets(dir);
    const script = sizes(js);
    const style = sizes(css);
    lines.push(
      `${name} initial JS: ${kB(script.gzip)} gzip, ${kB(script.brotli)} Brotli, ${kB(script.raw)} minified (${js.length} files); ` +
        `CSS ${kB(style.gzip)} gzip` +
        (name === "console"
          ? `; ${((script.gzip / BUDGET_GZIP_BYTES) * 100).toFixed(0)} % of the 200 kB gzip budget`
          : ""),
    );
  }
  return lines;
}

/**
 * In the page before its scripts run (DevTools protocol, so the CSP does not apply): the time
 * from navigation start until the campaign page is usable with every photo shown.
 */
const INTERACTIVE_PROBE = `(() => {
  const ready = () => {
    if (!document.body) return false;
    const button = [...document.querySelectorAll("button")].find((each) => each.textContent === "Make video");
    const list = document.querySelector('ul[aria-label="Campaign photos"]');
    const empty = document.body.textContent.includes("No photos yet");
    if (!button || button.disabled || !(list || empty)) return false;
    const images = list ? [...list.querySelectorAll("img")] : [];
    const expected = Number(sessionStorage.getItem("bench.expectPhotos"));
    // Every photo is listed; the thumbnails on screen are decoded (the others load lazily on scroll).
    const onScreen = images.filter((img) => img.getBoundingClientRect().top < window.innerHeight);
    return images.length === expected && onScreen.every((img) => img.complete && img.naturalWidth > 0);
  };
  const tick = () => (ready() ? (window.__interactiveAt = performance.now()) : requestAnimationFrame(tick));
  requestAnimationFrame(tick);
})()`;

async function timeToInteractive(page: Page, url: string, photos: number): Promise<number> {
  await page.goto(url, { waitUntil: "commit" });
  const deadline = Date.now() + 30_000;
  for (;;) {
    const at = (await page.evaluate("window.__interactiveAt ?? null")) as number | null;
    if (at !== null) return at;
    if (Date.now() > deadline) {
      const seen = await page.evaluate(`({
        images: document.querySelectorAll('ul[aria-label="Campaign photos"] img').length,
        decoded: [...document.querySelectorAll('ul[aria-label="Campaign photos"] img')].filter((img) => img.complete && img.naturalWidth > 0).length,
        expected: sessionStorage.getItem("bench.expectPhotos"),
        probe: typeof window.__interactiveAt,
      })`);
      await page.screenshot({ path: "/work/w-web/.tmp/bench-fail.png" });
      throw new Error(`${url} not interactive with ${photos} photos in 30 s: ${JSON.stringify(seen)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function navigationLines(page: Page, origin: string, campaigns: { id: string; photos: number }[]) {
  const lines: string[] = [];
  const cdp = await page.context().newCDPSession(page);
  await page.context().addInitScript(INTERACTIVE_PROBE);
  const medians: number[] = [];
  for (const campaign of campaigns) {
    await page.evaluate(`sessionStorage.setItem("bench.expectPhotos", "${campaign.photos}")`);
    const url = `${origin}/campaigns/${campaign.id}`;
    await cdp.send("Network.clearBrowserCache");
    const cold = await timeToInteractive(page, url, campaign.photos);
    const warm: number[] = [];
    for (let i = 0; i < NAVIGATIONS; i++) warm.push(await timeToInteractive(page, url, campaign.photos));
    const sorted = [...warm].sort((a, b) => a - b);
    medians.push(percentile(sorted, 50));
    lines.push(
      `navigation → interactive campaign page, ${campaign.photos} photos: cold cache ${cold.toFixed(0)} ms; ` +
        `warm ${summary(warm)}` +
        (campaign.photos === 30 ? `; goal ≤ 1000 ms` : ""),
    );
  }
  lines.push(`30 photos vs none (warm p50): ×${(medians[0]! / medians[1]!).toFixed(2)}`);
  return lines;
}

interface WireEvent {
  sequence: number;
  type: string;
  at: string;
  scene: { index: number; progress: number } | null;
}

const PROGRESS = `subscription($j: ID!, $a: Int) { videoJobProgress(jobId: $j, afterSequence: $a) {
  sequence type at scene { index progress } } }`;

/** Every event of the job, as a Node client on the wire sees it live: received time by sequence. */
function followOnTheWire(origin: string, key: string, jobId: string) {
  const received = new Map<number, number>();
  const events: WireEvent[] = [];
  const client = createClient({
    url: `${origin.replace(/^http/, "ws")}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { apiKey: key },
    retryAttempts: 0,
  });
  const done = new Promise<void>((resolve, reject) => {
    client.subscribe<{ videoJobProgress: WireEvent }>(
      { query: PROGRESS, variables: { j: jobId, a: 0 } },
      {
        next: (result) => {
          const event = result.data?.videoJobProgress;
          if (!event) return;
          received.set(event.sequence, Date.now());
          events.push(event);
        },
        error: reject,
        complete: resolve,
      },
    );
  });
  return { received, events, done, dispose: () => client.dispose() };
}

async function latencyLines(page: Page, origin: string, key: string, campaignId: string): Promise<string[]> {
  const created = await gql<{ createVideoJob: { id: string } }>(
    origin,
    key,
    `mutation($c: ID!) { createVideoJob(input: { campaignId: $c, sceneCount: 7, secondsPerScene: 4 }) { id } }`,
    { c: campaignId },
  );
  const jobId = created.body.data!.createVideoJob.id;
  const wire = followOnTheWire(origin, key, jobId);
  await page.goto(`${origin}/jobs/${jobId}`);
  await page.getByRole("heading", { name: /^Video for/ }).waitFor();
  await recordProgress(page);
  await page.getByRole("status", { name: "Live updates: Live" }).waitFor();
  // Events from before the page was live reach it in the snapshot: they are not timed.
  const liveAt = Date.now();
  await wire.done;
  await page.locator('video[aria-label="Property video"]').waitFor({ timeout: 300_000 });
  const { samples } = await progressSamples(page);
  await wire.dispose();

  const onScreen: number[] = [];
  const onWire: number[] = [];
  const shown = new Map<number, number>();
  for (const event of wire.events) {
    if (event.type !== "SCENE_UPDATED" || !event.scene) continue;
    const value = Math.round(event.scene.progress * 100);
    // Bars start at 0; an event that leaves a bar where it was changes no attribute: nothing to time.
    const unchanged = (shown.get(event.scene.index) ?? 0) === value;
    shown.set(event.scene.index, value);
    const appended = Date.parse(event.at);
    if (unchanged || appended < liveAt) continue;
    const label = `Scene ${event.scene.index + 1}`;
    const sample = samples.find(
      (each) => each.label === label && each.value === value && each.at >= appended - 5,
    );
    if (!sample) throw new Error(`${label} never showed ${value} % (event ${event.sequence})`);
    onScreen.push(sample.at - appended);
    onWire.push(wire.received.get(event.sequence)! - appended);
  }
  const screenP99 = percentile(
    [...onScreen].sort((a, b) => a - b),
    99,
  );
  const wireP99 = percentile(
    [...onWire].sort((a, b) => a - b),
    99,
  );
  return [
    `progress latency, worker event → Scene bar's aria-valuenow (7-scene job): ${summary(onScreen)}; goal p99 ≤ 100 ms`,
    `same events, worker → Node graphql-ws client: ${summary(onWire)}; on screen / on the wire p99 ×${(screenP99 / Math.max(1, wireP99)).toFixed(2)}`,
  ];
}

async function run(): Promise<string[]> {
  const lines = bundleLines();
  const scratch = mkdtempSync(path.join(os.tmpdir(), "propvid-web-bench-"));
  chmodSync(scratch, 0o755);
  const database = await startEmbeddedPostgres({
    dataDir: path.join(scratch, "postgres"),
    logger: silentLogger,
    settings: { fsync: "off", synchronous_commit: "off" },
  });
  const env = childEnv({
    DATABASE_URL: database.url,
    PROPVID_DATA_DIR: path.join(scratch, "data"),
    NODE_ENV: "production",
    RATE_LIMIT_PER_MINUTE: "0",
  });
  const processes: ServerProcess[] = [];
  let browser: Awaited<ReturnType<typeof openBrowser>> | undefined;
  try {
    processes.push(await startServerProcess(env, ["--role", "api"]));
    processes.push(await startWorkerProcess(env));
    const origin = processes[0]!.url;
    const key = (await runCli(["keys", "create", "--tenant", "bench"], env)).stdout.trim();
    const campaign = async (name: string, photos: string[]) => {
      const created = await gql<{ createCampaign: { id: string } }>(
        origin,
        key,
        "mutation($n: String!) { createCampaign(input: { name: $n }) { id } }",
        { n: name },
      );
      const id = created.body.data!.createCampaign.id;
      for (const file of photos) {
        const form = new FormData();
        form.append("file", new Blob([await readFile(path.join(FIXTURE_PHOTOS_DIR, file))]), file);
        const response = await fetch(`${origin}/v1/campaigns/${id}/assets`, {
          method: "POST",
          headers: { "x-api-key": key },
          body: form,
        });
        if (response.status !== 200) throw new Error(`upload of ${file}: ${response.status}`);
      }
      return { id, photos: photos.length };
    };
    const thirty = await campaign("thirty photos", fixturePhotoNames().filter(isKeeper).slice(0, 30));
    if (thirty.photos !== 30) throw new Error(`only ${thirty.photos} keeper fixture photos`);
    const none = await campaign("no photos", []);

    // No request interception: it would turn the HTTP cache off (foreign requests are still recorded).
    browser = await openBrowser(origin, { block: false });
    await signIn(browser.page, origin, key);
    lines.push(...(await navigationLines(browser.page, origin, [thirty, none])));
    lines.push(...(await latencyLines(browser.page, origin, key, thirty.id)));
    if (browser.foreignRequests.length > 0)
      throw new Error(`foreign requests: ${browser.foreignRequests.join(", ")}`);
  } finally {
    await browser?.close();
    for (const child of processes.reverse()) await child.stop("SIGTERM");
    await database.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
  return lines;
}

export const webConsoleBenchmark: Benchmark = {
  name: "web-console",
  description:
    "console bundle sizes, navigation to a 30-photo campaign, progress latency on screen (Chromium)",
  run,
};
