/**
 * Delivery benchmarks (issue 14), on a real `propvid serve --role all` with an embedded PostgreSQL:
 * - SUCCEEDED → all renditions ready (RENDITIONS_READY), and that as a share of the job's wall time;
 * - HLS segment requests through the real media route (byte ranges of one large object) against
 *   the same bytes from a file over HTTP (p50/p99 ratio; goal ≤ 1.5×);
 * - the share page in Chromium on loopback: bytes transferred and time to first frame.
 */
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { contentRangeHeader, parseRange } from "../src/http/range.js";
import { openBrowser } from "../test/helpers/browser.js";
import { formatLatency, latency, renderJob, startBenchServer } from "./bench-server.js";
import type { Benchmark } from "./benchmarks.js";

const ROUNDS = 15;

interface VideoView {
  hlsUrl: string | null;
  renditions: { label: string; url: string; byteSize: number }[];
}

async function timed(url: string, range: string): Promise<number> {
  const started = performance.now();
  const response = await fetch(url, { headers: { range } });
  await response.arrayBuffer();
  if (response.status !== 206) throw new Error(`${url}: ${response.status}`);
  return performance.now() - started;
}

/** The same bytes from a file, with the same Range parsing: what a static file server does. */
async function fileServer(file: string, size: number): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const range = parseRange(req.headers.range, size);
    if (range.kind !== "single") return void res.writeHead(416).end();
    res.writeHead(206, {
      "content-type": "video/mp4",
      "content-length": String(range.end - range.start + 1),
      "content-range": contentRangeHeader(range.start, range.end, size),
    });
    createReadStream(file, { start: range.start, end: range.end }).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/segment.mp4`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** In the share page: play (muted) as soon as possible, resolve at the first decoded frame. */
const FIRST_FRAME = `async () => {
  const video = document.getElementById("player");
  video.muted = true;
  while (!video.src) await new Promise((r) => setTimeout(r, 5));
  await video.play();
  while (video.currentTime <= 0) await new Promise((r) => requestAnimationFrame(r));
  const entries = [performance.getEntriesByType("navigation")[0], ...performance.getEntriesByType("resource")];
  return { firstFrameMs: performance.now(), bytes: entries.reduce((sum, e) => sum + (e.transferSize || 0), 0), requests: entries.length };
}`;

export const deliveryBenchmark: Benchmark = {
  name: "delivery",
  description:
    "renditions after SUCCEEDED, HLS byte ranges from large objects vs a file, the share page in Chromium",
  async run() {
    const lines: string[] = [];
    const server = await startBenchServer("delivery");
    const scratch = mkdtempSync(path.join(os.tmpdir(), "propvid-delivery-bench-"));
    try {
      const job = await renderJob(server);
      const jobId = await latestJobId(server);
      let video: VideoView | null = null;
      for (const deadline = Date.now() + 900_000; Date.now() < deadline; ) {
        const data = await server.query<{ videoJob: { finishedAt: string; video: VideoView } }>(
          "query($j: ID!) { videoJob(id: $j) { finishedAt video { hlsUrl renditions { label url byteSize } } } }",
          { j: jobId },
        );
        if (data.videoJob.video.hlsUrl) {
          const after = (Date.now() - Date.parse(data.videoJob.finishedAt)) / 1000;
          lines.push(
            `SUCCEEDED → renditions ready: ${after.toFixed(1)} s after a ${job.seconds.toFixed(1)} s job ` +
              `(${((after / job.seconds) * 100).toFixed(0)} % of its wall time; ${job.videoSeconds} s video, ` +
              `${data.videoJob.video.renditions.map((r) => `${r.label} ${(r.byteSize / 1e6).toFixed(1)} MB`).join(", ")})`,
          );
          video = data.videoJob.video;
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      if (!video?.hlsUrl) throw new Error("the renditions never became ready");

      // HLS segments of the 720p rung: the route vs a file server, alternating, same bytes.
      const master = await (await fetch(video.hlsUrl)).text();
      const mediaUrl = new URL(
        master.split("\n").find((line) => line.startsWith("720p.m3u8"))!,
        video.hlsUrl,
      );
      const playlist = await (await fetch(mediaUrl)).text();
      const segmentUrl = new URL(
        playlist.split("\n").find((line) => line.startsWith("../../media/"))!,
        mediaUrl,
      ).href;
      const ranges = [...playlist.matchAll(/#EXT-X-BYTERANGE:(\d+)@(\d+)/g)].map(
        ([, length, offset]) => `bytes=${offset}-${Number(offset) + Number(length) - 1}`,
      );
      const whole = Buffer.from(await (await fetch(segmentUrl)).arrayBuffer());
      const file = path.join(scratch, "720p.mp4");
      writeFileSync(file, whole);
      const plain = await fileServer(file, whole.length);
      const fromRoute: number[] = [];
      const fromFile: number[] = [];
      try {
        for (let round = 0; round < ROUNDS; round++) {
          for (const range of ranges) {
            fromRoute.push(await timed(segmentUrl, range));
            fromFile.push(await timed(plain.url, range));
          }
        }
      } finally {
        await plain.close();
      }
      const route = latency(fromRoute);
      const disk = latency(fromFile);
      lines.push(
        `HLS 720p segments (${ranges.length} × ${ROUNDS}, ~${(whole.length / ranges.length / 1e6).toFixed(2)} MB each): ` +
          `route ${formatLatency(route)}; file ${formatLatency(disk)}; ratio p50 ${(route.p50 / disk.p50).toFixed(2)}×, ` +
          `p99 ${(route.p99 / disk.p99).toFixed(2)}× (goal ≤ 1.5×)`,
      );

      // The share page in Chromium: first visit (cold cache), then a second one.
      const { createShareLink } = await server.query<{ createShareLink: { url: string } }>(
        "mutation($j: ID!) { createShareLink(input: { videoJobId: $j }) { url } }",
        { j: jobId },
      );
      const browser = await openBrowser(server.url, { block: false });
      try {
        for (const visit of ["cold", "warm"]) {
          await browser.page.goto(createShareLink.url, { waitUntil: "commit" });
          const outcome = (await browser.page.evaluate(`(${FIRST_FRAME})()`)) as {
            firstFrameMs: number;
            bytes: number;
            requests: number;
          };
          lines.push(
            `share page (${visit}): first frame ${outcome.firstFrameMs.toFixed(0)} ms after navigation, ` +
              `${(outcome.bytes / 1000).toFixed(0)} kB transferred (cache hits count 0) over ${outcome.requests} requests until then`,
          );
        }
        if (browser.foreignRequests.length > 0)
          throw new Error(`foreign requests: ${browser.foreignRequests}`);
      } finally {
        await browser.close();
      }
    } finally {
      await server.stop();
      rmSync(scratch, { recursive: true, force: true });
    }
    return lines;
  },
};

async function latestJobId(server: Awaited<ReturnType<typeof startBenchServer>>): Promise<string> {
  const data = await server.query<{ campaign: { videoJobs: { edges: { node: { id: string } }[] } } }>(
    "query($c: ID!) { campaign(id: $c) { videoJobs(first: 1) { edges { node { id } } } } }",
    { c: server.campaignId },
  );
  const id = data.campaign.videoJobs.edges[0]?.node.id;
  if (!id) throw new Error("no job");
  return id;
}
