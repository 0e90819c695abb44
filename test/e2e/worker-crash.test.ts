import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { isTerminalJobStatus } from "../../src/db/entities/video-job.entity.js";
import { workDirPid } from "../../src/media/work-dir.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { waitForRenditions } from "../helpers/delivery.js";
import { readProcStat } from "../helpers/procfs.js";
import {
  campaignThroughApi,
  childEnv,
  gql,
  runCli,
  type ServerProcess,
  startServerProcess,
} from "../helpers/server-process.js";

/**
 * ABUSE 37 and 48: kill -9 the process mid-render, start it again: the job completes, one clip per
 * scene, and the photos and partial clip the killed process had on disk are gone.
 */
describe("a worker killed mid-render", () => {
  let database: TestDatabase;
  let env: NodeJS.ProcessEnv;
  let server: ServerProcess | undefined;
  let dataDir: string;

  before(async () => {
    database = await createTestDatabase();
    dataDir = mkdtempSync(path.join(os.tmpdir(), "propvid-crash-"));
    env = childEnv({ DATABASE_URL: database.url, PROPVID_DATA_DIR: dataDir, RENDER_CONCURRENCY: "1" });
  });
  after(async () => {
    await server?.stop("SIGKILL");
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("is retried after restart and the job completes with exactly one clip per scene", async (t) => {
    server = await startServerProcess(env);
    const key = (await runCli(["keys", "create", "--tenant", "crash"], env)).stdout.trim();
    const campaignId = await campaignThroughApi(server.url, key, "crash", [
      "exterior-01.jpg",
      "living-01.jpg",
      "pool-01.jpg",
      "view-02.jpg",
    ]);
    const created = await gql<{ createVideoJob: { id: string } }>(
      server.url,
      key,
      `mutation($c: ID!) { createVideoJob(input: { campaignId: $c, sceneCount: 3, secondsPerScene: 2 }) { id } }`,
      { c: campaignId },
    );
    const jobId = created.body.data!.createVideoJob.id;

    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      // Wait until a scene is rendering, then kill the process without warning.
      for (let i = 0; i < 600; i++) {
        const { rows } = await client.query(
          "SELECT 1 FROM scene WHERE job_id = $1 AND status = 'RUNNING' AND progress > 0",
          [jobId],
        );
        if (rows.length) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await server.stop("SIGKILL");
      const killedAt = Date.now();
      // What the killed service left in its work directories (its API process's, its job
      // process's, which died with it): the scene's photos, a partial clip.
      const workRoot = path.join(dataDir, "work");
      const killedDirs = readdirSync(workRoot);
      assert.equal(killedDirs.length, 2, `the API's and the job process's: ${killedDirs.join(", ")}`);
      const leftBehind = killedDirs.flatMap((dir) =>
        readdirSync(path.join(workRoot, dir), { recursive: true }).map(String),
      );
      assert.ok(
        leftBehind.some((file) => file.endsWith("first")),
        `a photo was left behind: ${leftBehind.join(", ")}`,
      );
      // The job process ends on its own once it sees its parent gone (at nice 10 on a busy machine,
      // not at once); the next start is the one after both have ended. A zombie has ended: the
      // start-up sweep treats it so (pid 1 reaps orphans here only every few seconds).
      const pids = killedDirs.map((dir) => workDirPid(dir)!);
      const ended = () =>
        pids.every((pid) => ["Z", "X", undefined].includes(readProcStat(`/proc/${pid}/stat`)?.state));
      for (let i = 0; i < 100 && !ended(); i++) await new Promise((resolve) => setTimeout(resolve, 100));
      assert.ok(ended(), `the killed service's processes ended: ${pids.join(", ")}`);
      server = await startServerProcess(env);
      for (const dir of killedDirs)
        assert.equal(existsSync(path.join(workRoot, dir)), false, `${dir} removed at the next start`);
      let status = "";
      let retriedAfterMs: number | undefined;
      for (let i = 0; i < 900 && !isTerminalJobStatus(status); i++) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        status = (await client.query("SELECT status FROM video_job WHERE id = $1", [jobId])).rows[0].status;
        if (retriedAfterMs === undefined) {
          const retried = await client.query("SELECT 1 FROM scene WHERE job_id = $1 AND attempts > 1", [
            jobId,
          ]);
          if (retried.rows.length) retriedAfterMs = Date.now() - killedAt;
        }
      }
      // The dead process's scene is noticed by its missed heartbeat (10 s) at pg-boss's next monitor
      // pass (every 5 s) and retried 2 s later: well within 35 s even on a loaded machine (with
      // pg-boss's default monitor interval it took about 60 s).
      t.diagnostic(
        `the interrupted scene was claimed again ${((retriedAfterMs ?? Number.NaN) / 1000).toFixed(1)} s after the kill`,
      );
      assert.ok(
        retriedAfterMs !== undefined && retriedAfterMs < 35_000,
        `retried after ${retriedAfterMs} ms`,
      );
      assert.equal(status, "SUCCEEDED");
      const scenes = (
        await client.query(
          "SELECT index, clip_media_id, attempts FROM scene WHERE job_id = $1 ORDER BY index",
          [jobId],
        )
      ).rows;
      assert.equal(scenes.length, 3);
      assert.equal(new Set(scenes.map((scene) => scene.clip_media_id)).size, 3, "one clip per scene");
      assert.ok(
        scenes.some((scene) => scene.attempts > 1),
        "the interrupted scene was attempted again",
      );
      const orphans = await client.query(
        `SELECT count(*)::int AS n FROM media m WHERE m.content_type = 'video/mp4'
           AND NOT EXISTS (SELECT 1 FROM scene s WHERE s.clip_media_id = m.id)
           AND NOT EXISTS (SELECT 1 FROM video_job j WHERE m.id IN (j.video_media_id, j.unbranded_video_media_id))
           AND NOT EXISTS (SELECT 1 FROM video_rendition r WHERE r.media_id = m.id)`,
      );
      assert.equal(orphans.rows[0].n, 0, "no stray clip stored by the killed attempt");
      // The running process's work directories hold nothing but their heartbeats once the job is
      // done and the renditions that follow SUCCEEDED have been announced (their part starts after
      // SUCCEEDED: an empty folder before it is no proof) and have let go of their scratch folder.
      const dirs = readdirSync(workRoot).map((dir) => path.join(workRoot, dir));
      assert.equal(dirs.length, 2);
      const deadline = Date.now() + 120_000;
      // Each cut (the video, and the unbranded one when there is one) gets its own ladder.
      const cuts = (
        await client.query(
          "SELECT num_nonnulls(video_media_id, unbranded_video_media_id) AS n FROM video_job WHERE id = $1",
          [jobId],
        )
      ).rows[0].n as number;
      await waitForRenditions(async (sql, params) => (await client.query(sql, params)).rows, jobId, {
        cuts,
        timeoutMs: 120_000,
      });
      const busy = () => dirs.some((dir) => readdirSync(dir).some((name) => name.startsWith("propvid-")));
      while (busy() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250));
      for (const dir of dirs) assert.deepEqual(readdirSync(dir), ["alive"]);

      // The job ended in the restarted service's job process, whose metrics its /metrics sums in;
      // the process-wide figures appear once.
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      assert.match(metrics, /^propvid_video_jobs_total\{status="SUCCEEDED"\} 1$/m);
      assert.match(metrics, /^propvid_scene_render_seconds_count\{provider="local"\} [1-3]$/m);
      assert.equal(metrics.match(/^process_cpu_user_seconds_total /gm)?.length, 1);
      assert.equal(metrics.match(/^propvid_media_stored_bytes /gm)?.length, 1);
      assert.match(server.output(), /"process":"jobs"[^\n]*"msg":"scene rendered"/);
    } finally {
      await client.end();
    }
  });
});
