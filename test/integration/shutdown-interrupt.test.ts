/**
 * A stop that does not wait for running jobs (`stop({ graceful: false })`: the CLI's render after
 * its video, a job process told to stop at once, a graceful stop whose wait ran out) interrupts
 * them: the FFmpeg they run is dead when `stop()` returns, and each part goes back to pg-boss to
 * be retried, with no failure recorded. Scenes already stopped (their encoders belong to the
 * media threads, which the stop ends); a rendition's or an assembly's FFmpeg, run from the main
 * thread, ran on after the stop (a test file's process lingered 9–12 s after its last test,
 * waiting for one), and its part stayed `active` in pg-boss until its expiry.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { type RunningApp, startApp } from "../../src/app.js";
import { silentLogger } from "../../src/logger.js";
import { testConfig } from "../helpers/config.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { campaignWithPhotos, waitForJob } from "../helpers/pipeline.js";
import { runningFfmpegChildren } from "../helpers/procfs.js";

const encoders = () => runningFfmpegChildren(process.pid);

describe("stopping without waiting for running jobs", () => {
  let database: TestDatabase;
  let app: RunningApp | undefined;

  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => {
    await app?.stop({ graceful: false });
    await database?.drop();
  });

  it("kills a rendition's FFmpeg before it returns and hands the part back to pg-boss", async () => {
    app = await startApp({
      config: testConfig({ PATH: process.env.PATH ?? "" }),
      logger: silentLogger,
      role: "all",
      database: { url: database.url },
      listen: false,
      poolSize: 5,
      bossPoolSize: 3,
    });
    const { services } = app;
    const { tenant } = await services.tenants.createKeyForTenant("interrupt", "test key", ["admin"]);
    const { campaignId } = await campaignWithPhotos(services, tenant.id, [
      "exterior-01.jpg",
      "living-01.jpg",
    ]);
    const created = await services.pipeline.create(tenant.id, {
      campaignId,
      sceneCount: 2,
      secondsPerScene: 2,
    });
    const job = await waitForJob(services, created.id, 120_000);
    assert.equal(job.status, "SUCCEEDED", job.error ?? "");
    // Once the video is done, its renditions are transcoded by FFmpeg run from this thread.
    const deadline = Date.now() + 60_000;
    while (encoders().length === 0) {
      assert.ok(Date.now() < deadline, "no rendition started");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }

    const stopping = Date.now();
    await app.stop({ graceful: false });
    const stoppedMs = Date.now() - stopping;
    app = undefined;
    assert.deepEqual(
      encoders().map((child) => `${child.pid} ${child.name} ${child.state}`),
      [],
      "an FFmpeg still ran after stop() returned",
    );
    assert.ok(stoppedMs < 10_000, `stop() took ${stoppedMs} ms`);

    // The renditions part is queued again for another attempt, not left active nor failed.
    const probe = new pg.Client({ connectionString: database.url });
    await probe.connect();
    try {
      const parts = await probe.query<{ state: string }>(
        "SELECT state FROM pgboss.job WHERE name = 'video.renditions' AND data->>'jobId' = $1",
        [job.id],
      );
      // one part per cut of the video; the one that was running is back for a retry
      const states = parts.rows.map((row) => row.state);
      assert.ok(states.includes("retry"), `an interrupted part is handed back for a retry: ${states}`);
      assert.ok(!states.includes("active"), `no part left active: ${states}`);
      const events = await probe.query<{ type: string }>(
        "SELECT type FROM job_event WHERE job_id = $1 AND type = 'RENDITIONS_READY'",
        [job.id],
      );
      assert.deepEqual(events.rows, [], "no renditions were announced");
    } finally {
      await probe.end();
    }
  });
});
