import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { InProcessApp } from "./app.js";
import { campaignWithPhotos, waitForJob } from "./pipeline.js";

const run = promisify(execFile);

/** A SUCCEEDED job on the embedded providers (3 short scenes), through the API. */
export async function finishedJob(
  app: InProcessApp,
  tenant: { key: string; tenantId: string },
  campaign: { address?: string } = {},
): Promise<{ jobId: string; campaignId: string; wallMs: number }> {
  const started = Date.now();
  const { campaignId } = await campaignWithPhotos(app.services, tenant.tenantId, [
    "exterior-01.jpg",
    "living-01.jpg",
    "kitchen-01.jpg",
  ]);
  if (campaign.address !== undefined) {
    await app.services.dataSource.query("UPDATE campaign SET address = $2 WHERE id = $1", [
      campaignId,
      campaign.address,
    ]);
  }
  const created = await app.graphql<{ createVideoJob: { id: string } }>(
    tenant.key,
    `mutation($c: ID!) { createVideoJob(input: { campaignId: $c, sceneCount: 3, secondsPerScene: 2 }) { id } }`,
    { c: campaignId },
  );
  const jobId = created.body.data?.createVideoJob.id;
  if (!jobId) throw new Error(JSON.stringify(created.body));
  const job = await waitForJob(app.services, jobId, 240_000);
  if (job.status !== "SUCCEEDED") throw new Error(`job ${job.status}: ${job.error}`);
  return { jobId, campaignId, wallMs: Date.now() - started };
}

/** Runs one SQL statement and returns its rows (the app's DataSource, or a pg client's `.rows`). */
export type RowQuery = (sql: string, params: unknown[]) => Promise<{ created_at: Date }[]>;

/**
 * Waits for the job's RENDITIONS_READY events, one per cut (`cuts`: the video, and the
 * unbranded one when the job has it); returns when the last of them was written.
 */
export async function waitForRenditions(
  query: RowQuery,
  jobId: string,
  { cuts = 1, timeoutMs = 240_000 }: { cuts?: number; timeoutMs?: number } = {},
): Promise<Date> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await query(
      "SELECT created_at FROM job_event WHERE job_id = $1 AND type = 'RENDITIONS_READY' ORDER BY sequence",
      [jobId],
    );
    if (rows.length >= cuts) return rows[cuts - 1]!.created_at;
    if (Date.now() > deadline)
      throw new Error(`${rows.length} of ${cuts} RENDITIONS_READY for job ${jobId} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** ffprobe over HTTP (the app's runner only opens local files, by design). */
export async function ffprobeJson(
  ffprobe: string,
  url: string,
): Promise<{
  programs?: { streams: { codec_type: string; height?: number }[] }[];
  streams: { codec_type: string; height?: number; width?: number }[];
  format: { duration?: string };
}> {
  const { stdout } = await run(
    ffprobe,
    [
      "-v",
      "error",
      "-protocol_whitelist",
      "http,tcp,file,crypto",
      "-show_programs",
      "-show_streams",
      "-show_format",
      "-of",
      "json",
      url,
    ],
    { maxBuffer: 16 * 1024 * 1024, timeout: 120_000 },
  );
  return JSON.parse(stdout);
}

/** Decodes a URL end to end; returns the last decoded timestamp (seconds) FFmpeg reported. */
export async function decodedSeconds(ffmpeg: string, url: string): Promise<number> {
  const { stderr } = await run(
    ffmpeg,
    ["-hide_banner", "-nostdin", "-protocol_whitelist", "http,tcp,file,crypto", "-i", url, "-f", "null", "-"],
    { maxBuffer: 64 * 1024 * 1024, timeout: 300_000 },
  );
  const times = [...stderr.matchAll(/time=(\d+):(\d+):(\d+(?:\.\d+)?)/g)];
  const last = times[times.length - 1];
  if (!last) throw new Error(`ffmpeg printed no time: ${stderr.slice(-500)}`);
  return Number(last[1]) * 3600 + Number(last[2]) * 60 + Number(last[3]);
}
