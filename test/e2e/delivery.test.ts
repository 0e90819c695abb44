/**
 * Delivery end to end on the real app listening on loopback: renditions after SUCCEEDED,
 * HLS from large objects read by ffprobe/ffmpeg over HTTP, download names.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { parse } from "content-disposition";
import { type InProcessApp, startInProcessApp } from "../helpers/app.js";
import { decodedSeconds, ffprobeJson, finishedJob, waitForRenditions } from "../helpers/delivery.js";

interface VideoView {
  url: string;
  downloadUrl: string;
  hlsUrl: string | null;
  durationSeconds: number;
  renditions: {
    label: string;
    width: number;
    height: number;
    bitrate: number;
    url: string;
    byteSize: number;
  }[];
}

const VIDEO_QUERY = `query($id: ID!) { videoJob(id: $id) { status video {
  url downloadUrl hlsUrl durationSeconds renditions { label width height bitrate url byteSize } } } }`;

describe("delivery: renditions, HLS from large objects, download names", () => {
  let app: InProcessApp;
  let tenant: { key: string; tenantId: string };
  let jobId: string;
  let video: VideoView;

  before(async () => {
    app = await startInProcessApp({ PATH: process.env.PATH ?? "" }, { listen: true });
    tenant = await app.newTenant("delivery");
    ({ jobId } = await finishedJob(app, tenant, { address: "12 Ocean Drive, Miami Beach, FL 33139" }));
  });
  after(async () => app?.close());

  const videoOf = async (): Promise<VideoView> => {
    const result = await app.graphql<{ videoJob: { video: VideoView } }>(tenant.key, VIDEO_QUERY, {
      id: jobId,
    });
    assert.equal(result.body.errors, undefined, JSON.stringify(result.body.errors));
    return result.body.data!.videoJob.video;
  };

  it("is SUCCEEDED before the renditions exist, which then arrive with an event", async () => {
    const atSuccess = await videoOf();
    // The renditions job cannot have finished inside the SUCCEEDED transition.
    const [completed] = await app.services.dataSource.query(
      "SELECT sequence FROM job_event WHERE job_id = $1 AND type = 'COMPLETED'",
      [jobId],
    );
    assert.ok(completed, "COMPLETED was written");
    await waitForRenditions(app.services, jobId);
    const [ready] = await app.services.dataSource.query(
      "SELECT sequence, payload FROM job_event WHERE job_id = $1 AND type = 'RENDITIONS_READY'",
      [jobId],
    );
    assert.ok(ready.sequence > completed.sequence, "RENDITIONS_READY comes after COMPLETED");
    assert.deepEqual(ready.payload.renditions.labels.sort(), ["1080p", "480p", "720p"]);
    video = await videoOf();
    assert.ok(atSuccess.url);
    assert.deepEqual(
      video.renditions.map((r) => [r.label, r.width, r.height]),
      [
        ["1080p", 1920, 1080],
        ["720p", 1280, 720],
        ["480p", 854, 480],
      ],
    );
    const [, r720, r480] = video.renditions;
    assert.ok(r720!.bitrate > r480!.bitrate && r480!.bitrate < 2_000_000, JSON.stringify(video.renditions));
    assert.ok(video.hlsUrl?.includes("/master.m3u8?token="));
  });

  it("serves an HLS master playlist that ffprobe reads over HTTP: three video variants and audio", async () => {
    const probe = await ffprobeJson(app.services.ffmpeg.ffprobe, video.hlsUrl!);
    const heights = new Set(
      (probe.programs ?? []).flatMap((program) =>
        program.streams.filter((s) => s.codec_type === "video").map((s) => s.height),
      ),
    );
    assert.deepEqual(
      [...heights].sort((a, b) => a! - b!),
      [480, 720, 1080],
    );
    assert.ok(
      probe.streams.some((s) => s.codec_type === "audio"),
      "an audio stream",
    );

    const master = await (await fetch(video.hlsUrl!)).text();
    assert.match(master, /#EXT-X-STREAM-INF:.*CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2"/);
    const mediaUrl = new URL(master.split("\n").find((line) => line.startsWith("480p.m3u8"))!, video.hlsUrl!);
    const media = await fetch(mediaUrl);
    assert.equal(media.headers.get("content-type"), "application/vnd.apple.mpegurl");
    assert.match(media.headers.get("cache-control")!, /^private, max-age=\d+, immutable$/);
    const text = await media.text();
    assert.match(text, /#EXT-X-MAP:URI="\.\.\/\.\.\/media\/[0-9a-f-]+\?token=[^"]+",BYTERANGE="\d+@0"/);
    assert.match(text, /#EXT-X-BYTERANGE:\d+@\d+/);

    // Every segment is an exact byte range of the one large object, served as 206.
    const [, length, offset] = /#EXT-X-BYTERANGE:(\d+)@(\d+)/.exec(text)!.map(Number);
    const segmentUrl = new URL(text.split("\n").find((line) => line.startsWith("../../media/"))!, mediaUrl);
    const segment = await fetch(segmentUrl, {
      headers: { range: `bytes=${offset}-${offset! + length! - 1}` },
    });
    assert.equal(segment.status, 206);
    const body = Buffer.from(await segment.arrayBuffer());
    assert.equal(body.length, length);
    assert.equal(body.subarray(4, 8).toString("latin1"), "moof", "a segment starts with its moof");
  });

  it("decodes the 480p variant end to end to the full duration", async () => {
    const master = await (await fetch(video.hlsUrl!)).text();
    const url = new URL(master.split("\n").find((line) => line.startsWith("480p.m3u8"))!, video.hlsUrl!);
    const seconds = await decodedSeconds(app.services.ffmpeg.ffmpeg, url.href);
    assert.ok(Math.abs(seconds - video.durationSeconds) < 0.2, `${seconds} s vs ${video.durationSeconds} s`);
  });

  it("refuses playlists without a valid token", async () => {
    const url = new URL(video.hlsUrl!);
    const tampered = `${url.origin}${url.pathname}?token=${url.searchParams.get("token")!.slice(0, -2)}xx`;
    assert.equal((await fetch(tampered)).status, 403);
    assert.equal((await fetch(`${url.origin}${url.pathname}`)).status, 403);
  });

  it("names downloads from the address and format", async () => {
    const response = await fetch(video.downloadUrl, { headers: { range: "bytes=0-1" } });
    assert.equal(response.status, 206);
    const disposition = parse(response.headers.get("content-disposition")!);
    assert.equal(disposition.type, "attachment");
    assert.equal(disposition.parameters.filename, "12-ocean-drive-16x9.mp4");
    const rendition = await fetch(video.renditions[2]!.url, { method: "HEAD" });
    assert.equal(
      parse(rendition.headers.get("content-disposition")!).parameters.filename,
      "12-ocean-drive-16x9-480p.mp4",
    );
  });
});
