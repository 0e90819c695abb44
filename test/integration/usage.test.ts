/**
 * `usage(from, to)` and `GET /metrics` against jobs whose figures are known: two 2-scene jobs of
 * 2 s scenes on a provider that charges $0.05 a clip, photos ingested, one job's facts dated
 * yesterday. Usage is what was recorded, so deleting the campaign afterwards changes only the
 * stored bytes; the metrics count what this process did and read the rest from the database.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { embeddedProviders } from "../../src/providers/registry.js";
import type { UsageReport } from "../../src/services/usage.service.js";
import { type InProcessApp, startInProcessApp } from "../helpers/app.js";
import { fixedTimeVideo, localClipOnce, reusedLocalScore } from "../helpers/fixed-time-providers.js";
import { campaignWithPhotos, waitForJob } from "../helpers/pipeline.js";
import { parsePrometheus } from "../helpers/prometheus.js";

const USAGE = `query ($from: DateTimeISO!, $to: DateTimeISO!) {
  usage(from: $from, to: $to) {
    videos renderedSeconds providerCostUsd storageBytes assets
    byDay { date videos renderedSeconds providerCostUsd }
  }
}`;

const DAY_MS = 86_400_000;
/** A made-up token for the test server's `/metrics` guard. */
const METRICS_TOKEN = "test-metrics-token-0123456789";
const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

describe("usage", () => {
  let app: InProcessApp;
  let scratch: string;

  before(async () => {
    scratch = mkdtempSync(path.join(os.tmpdir(), "propvid-usage-"));
    app = await startInProcessApp(
      { METRICS_TOKEN: METRICS_TOKEN },
      {
        providers: ({ ffmpeg, workers }) =>
          embeddedProviders({ ffmpeg: ffmpeg.ffmpeg, workers })
            .addVideo(
              fixedTimeVideo({
                name: "test:priced",
                seconds: 0.5,
                usdPerClip: 0.05,
                clip: localClipOnce({ ffmpeg: ffmpeg.ffmpeg, workers, dir: scratch }),
              }),
            )
            .addMusic(reusedLocalScore({ workers, dir: scratch, name: "test:reused-score" })),
      },
    );
  });
  after(async () => {
    await app?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it("adds up the recorded facts of known jobs, per UTC day, and keeps them when the campaign goes", async () => {
    const { services } = app;
    const { key, tenantId } = await app.newTenant("billed");
    const other = await app.newTenant("other");
    const photos = ["exterior-01.jpg", "living-01.jpg", "kitchen-01.jpg"];
    const { campaignId } = await campaignWithPhotos(services, tenantId, photos);
    await campaignWithPhotos(services, other.tenantId, ["bath-01.jpg"]);
    const input = {
      campaignId,
      sceneCount: 2,
      secondsPerScene: 2,
      videoProvider: "test:priced",
      musicProvider: "test:reused-score",
    };
    const jobs = [];
    for (let i = 0; i < 2; i++) {
      const created = await services.pipeline.create(tenantId, input);
      jobs.push(await waitForJob(services, created.id));
    }
    for (const job of jobs) assert.equal(job.status, "SUCCEEDED", job.error ?? "");
    // The first job's facts as if it had finished yesterday (UTC).
    await services.dataSource.query(
      "UPDATE usage_event SET occurred_at = occurred_at - interval '1 day' WHERE job_id = $1",
      [jobs[0]!.id],
    );

    const now = Date.now();
    const from = new Date(now - DAY_MS - 3_600_000);
    const to = new Date(now + 60_000);
    const ask = async (tenantKey: string) => {
      const reply = await app.graphql<{ usage: UsageReport }>(tenantKey, USAGE, {
        from: from.toISOString(),
        to: to.toISOString(),
      });
      assert.ok(reply.body.data, JSON.stringify(reply.body.errors));
      return reply.body.data.usage;
    };
    const stored = async () =>
      Number(
        (
          await services.dataSource.query(
            "SELECT COALESCE(sum(byte_size), 0) AS n FROM media WHERE tenant_id = $1",
            [tenantId],
          )
        )[0].n,
      );

    const seconds = jobs.map((job) => job.durationSeconds!);
    // 2 scenes × 2 s and the 3 s outro card of the listing video
    assert.ok(
      seconds.every((s) => Math.abs(s - 7) < 0.1),
      `7 s videos, got ${seconds.join(", ")}`,
    );
    const usage = await ask(key);
    assert.deepEqual(
      { ...usage, byDay: undefined },
      {
        videos: 2,
        renderedSeconds: Math.round((seconds[0]! + seconds[1]!) * 1000) / 1000,
        providerCostUsd: 0.2,
        storageBytes: await stored(),
        assets: 3,
        byDay: undefined,
      },
    );
    const day = (ms: number, index: number) => ({
      date: utcDay(ms),
      videos: 1,
      renderedSeconds: seconds[index]!,
      providerCostUsd: 0.1,
    });
    const days = [utcDay(from.getTime()), utcDay(now - DAY_MS), utcDay(now), utcDay(to.getTime())].filter(
      (date, i, all) => all.indexOf(date) === i,
    );
    assert.deepEqual(
      usage.byDay.map((entry) => entry.date),
      days,
      "every day the range touches, in order",
    );
    assert.deepEqual(
      usage.byDay.filter((entry) => entry.videos > 0),
      [day(now - DAY_MS, 0), day(now, 1)],
    );

    // Another tenant sees only its own; an empty range is refused.
    const theirs = await ask(other.key);
    assert.deepEqual([theirs.videos, theirs.providerCostUsd, theirs.assets], [0, 0, 1]);
    const backwards = await app.graphql(key, USAGE, { from: to.toISOString(), to: from.toISOString() });
    assert.equal(backwards.body.errors?.[0]?.extensions?.code, "BAD_USER_INPUT");

    // Usage is history: the campaign's deletion frees storage, the bill stays.
    assert.ok(await services.campaigns.delete(tenantId, campaignId));
    const afterDelete = await ask(key);
    assert.deepEqual(
      { ...afterDelete, storageBytes: 0, byDay: afterDelete.byDay.length },
      { ...usage, storageBytes: 0, byDay: usage.byDay.length },
    );
    assert.equal(afterDelete.storageBytes, await stored());
    assert.ok(afterDelete.storageBytes < usage.storageBytes, "deleted media left the stored bytes");
  });

  it("exposes Prometheus metrics behind the bearer token, with the jobs' figures", async () => {
    const scrape = (authorization?: string) =>
      app.app.inject({ method: "GET", url: "/metrics", headers: authorization ? { authorization } : {} });
    assert.equal((await scrape()).statusCode, 401);
    assert.equal((await scrape("Bearer not-the-token-at-all")).statusCode, 401);
    const response = await scrape(`Bearer ${METRICS_TOKEN}`);
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers["content-type"]), /^text\/plain; version=0\.0\.4/);
    const { families, sample } = parsePrometheus(response.body);
    const value = (name: string, labels?: Record<string, string>) => Number(sample(name, labels)?.value);
    const labelledHistogram = async (name: string, labels: Record<string, string>) => {
      const metric = await app.services.metrics.registry.getSingleMetric(name)?.get();
      const of = (suffix: string) =>
        metric?.values.find(
          (entry) =>
            (entry as { metricName?: string }).metricName === `${name}_${suffix}` &&
            Object.entries(labels).every(([key, label]) => String(entry.labels[key]) === label),
        )?.value ?? Number.NaN;
      return { count: of("count"), sum: of("sum") };
    };

    // This process created and finished the two jobs of the test above, and rendered their 4 scenes.
    assert.equal(value("propvid_video_jobs_total", { status: "QUEUED" }), 2);
    assert.equal(value("propvid_video_jobs_total", { status: "SUCCEEDED" }), 2);
    assert.equal(Number(sample("propvid_video_job_duration_seconds")?.count), 2);
    // The parser folds labelled histograms into one sample; prom-client's own registry reads them.
    const renders = await labelledHistogram("propvid_scene_render_seconds", { provider: "test:priced" });
    assert.equal(renders.count, 4);
    assert.ok(renders.sum >= 4 * 0.5, "each render took the provider's 0.5 s");
    // From the database: the recorded charges (the deleted campaign's too) and the stored bytes.
    assert.equal(value("propvid_provider_cost_usd_total", { provider: "test:priced" }), 0.2);
    const [stored] = await app.services.dataSource.query("SELECT sum(byte_size)::float8 AS n FROM media");
    assert.equal(value("propvid_media_stored_bytes"), stored.n);
    assert.equal(value("propvid_queue_depth", { queue: "video.scene" }), 0);
    assert.equal(value("propvid_subscriptions_active"), 0);
    assert.ok(value("propvid_graphql_operations_total", { operation: "query", result: "ok" }) >= 3);
    assert.ok(value("propvid_graphql_operations_total", { operation: "query", result: "error" }) >= 1);
    const graphqlPosts = await labelledHistogram("propvid_http_request_duration_seconds", {
      method: "POST",
      route: "/graphql",
      status_code: "200",
    });
    assert.ok(graphqlPosts.count >= 4);
    assert.ok(
      families.has("propvid_scene_render_seconds") && families.has("propvid_http_request_duration_seconds"),
    );
    assert.equal(families.get("propvid_webhook_deliveries_total")?.type, "COUNTER");
    assert.ok(families.has("process_cpu_user_seconds_total"), "process defaults are exported");
  });
});
