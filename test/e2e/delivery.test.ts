/**
 * Delivery end to end on the real app listening on loopback: renditions after SUCCEEDED,
 * HLS from large objects read by ffprobe/ffmpeg over HTTP, download names.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { parse } from "content-disposition";
import ogs from "open-graph-scraper-lite";
import { type InProcessApp, startInProcessApp } from "../helpers/app.js";
import { openBrowser } from "../helpers/browser.js";
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

/** In the share page: play until it moves, seek near the end, wait for `ended`. */
const PLAY_TO_THE_END = `async () => {
  const video = document.getElementById("player");
  video.muted = true;
  const deadline = Date.now() + 60000;
  const until = async (ok) => { while (!ok() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50)); };
  await until(() => video.src !== "");
  await video.play();
  await until(() => video.currentTime > 0.5);
  const mode = video.src.startsWith("blob:") ? "hls.js" : video.currentSrc.includes("/master.m3u8") ? "native HLS" : video.currentSrc;
  video.currentTime = Math.max(0, video.duration - 1);
  await until(() => video.ended);
  return { mode, ended: video.ended, duration: video.duration };
}`;

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
    await waitForRenditions((sql, params) => app.services.dataSource.query(sql, params), jobId);
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
    assert.match(
      text,
      /#EXT-X-MAP:URI="\.\.\/\.\.\/media\/[0-9a-f-]+\/480p\.mp4\?token=[^"]+",BYTERANGE="\d+@0"/,
    );
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
    // A segment is whole boxes: FFmpeg starts each with its sidx, then moof + mdat.
    assert.match(body.subarray(4, 8).toString("latin1"), /^(sidx|styp|moof)$/);
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

  it("names downloads from the address, template and format", async () => {
    const response = await fetch(video.downloadUrl, { headers: { range: "bytes=0-1" } });
    assert.equal(response.status, 206);
    const disposition = parse(response.headers.get("content-disposition")!);
    assert.equal(disposition.type, "attachment");
    assert.equal(disposition.parameters.filename, "12-ocean-drive-just-listed-16x9.mp4");
    const rendition = await fetch(video.renditions[2]!.url, { method: "HEAD" });
    assert.equal(
      parse(rendition.headers.get("content-disposition")!).parameters.filename,
      "12-ocean-drive-just-listed-16x9-480p.mp4",
    );
  });

  const SHARE_FIELDS = "id url variant expiresAt revokedAt views watchSeconds";
  let share: { id: string; url: string; views: number; watchSeconds: number };

  it("creates share links for the tenant's own jobs only, with unguessable slugs", async () => {
    const created = await app.graphql<{ createShareLink: typeof share }>(
      tenant.key,
      `mutation($j: ID!) { createShareLink(input: { videoJobId: $j }) { ${SHARE_FIELDS} } }`,
      { j: jobId },
    );
    assert.equal(created.body.errors, undefined, JSON.stringify(created.body.errors));
    share = created.body.data!.createShareLink;
    assert.match(share.url, /\/s\/[A-Za-z0-9_-]{32}$/);

    const other = await app.newTenant("delivery-other");
    const foreign = await app.graphql(
      other.key,
      `mutation($j: ID!) { createShareLink(input: { videoJobId: $j }) { id } }`,
      { j: jobId },
    );
    assert.equal(foreign.body.errors?.[0]?.extensions?.code, "NOT_FOUND");
    const foreignList = await app.graphql(other.key, `query($j: ID!) { shareLinks(videoJobId: $j) { id } }`, {
      j: jobId,
    });
    assert.equal(foreignList.body.errors?.[0]?.extensions?.code, "NOT_FOUND");
    // Every listing job has an MLS-safe cut: its link serves that cut.
    const unbranded = await app.graphql<{ createShareLink: { url: string; variant: string } }>(
      tenant.key,
      `mutation($j: ID!) { createShareLink(input: { videoJobId: $j, variant: UNBRANDED }) { url variant } }`,
      { j: jobId },
    );
    assert.equal(unbranded.body.errors, undefined, JSON.stringify(unbranded.body.errors));
    assert.equal(unbranded.body.data!.createShareLink.variant, "UNBRANDED");
    assert.equal((await fetch(unbranded.body.data!.createShareLink.url)).status, 200);
  });

  it("has Open Graph and Twitter meta with absolute URLs that answer 200 (image) and 206 (video)", async () => {
    const page = await fetch(share.url);
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-security-policy")!, /default-src 'none'; script-src 'self'/);
    const { error, result } = await ogs({ html: await page.text() });
    assert.equal(error, false);
    assert.equal(result.ogTitle, "12 Ocean Drive, Miami Beach, FL 33139");
    assert.equal(result.twitterCard, "summary_large_image");
    const image = result.ogImage![0]!.url;
    const videoUrl = result.ogVideo![0]!.url;
    assert.equal(result.ogVideo![0]!.type, "video/mp4");
    assert.equal(Number(result.ogVideo![0]!.width), 1920);
    for (const url of [image, videoUrl])
      assert.equal(new URL(url).origin, app.baseUrl, "absolute, our origin");
    const imageResponse = await fetch(image);
    assert.equal(imageResponse.status, 200);
    assert.equal(imageResponse.headers.get("content-type"), "image/jpeg");
    const videoResponse = await fetch(videoUrl, { headers: { range: "bytes=0-1023" } });
    assert.equal(videoResponse.status, 206);
    assert.equal((await videoResponse.arrayBuffer()).byteLength, 1024);
    // Share media is the same for every visitor: a CDN may keep it until the token expires.
    assert.match(videoResponse.headers.get("cache-control")!, /^public, max-age=\d+, immutable$/);
  });

  it("plays in Chromium with no key and no other host, counts the view, then answers 410 once revoked", async () => {
    const browser = await openBrowser(app.baseUrl!);
    try {
      const { page } = browser;
      const response = await page.goto(share.url);
      assert.equal(response?.status(), 200);
      // Plays (muted: no user gesture), then seeks to the end and plays it out.
      const outcome = (await page.evaluate(`(${PLAY_TO_THE_END})()`)) as {
        mode: string;
        ended: boolean;
        duration: number;
      };
      // Chromium plays the ladder natively where it can, else through hls.js; never the MP4 here.
      assert.ok(["hls.js", "native HLS"].includes(outcome.mode), JSON.stringify(outcome));
      assert.ok(outcome.ended, JSON.stringify(outcome));
      assert.ok(Math.abs(outcome.duration - video.durationSeconds) < 0.3, JSON.stringify(outcome));
      await page.close({ runBeforeUnload: true });
      assert.deepEqual(browser.foreignRequests, []);
      assert.deepEqual(browser.pageErrors, []);
    } finally {
      await browser.close();
    }
    // The view beacon landed (watch seconds arrive with pagehide, best effort).
    const deadline = Date.now() + 10_000;
    let links: (typeof share)[] = [];
    while (Date.now() < deadline) {
      const listed = await app.graphql<{ shareLinks: (typeof share)[] }>(
        tenant.key,
        `query($j: ID!) { shareLinks(videoJobId: $j) { ${SHARE_FIELDS} } }`,
        { j: jobId },
      );
      links = listed.body.data!.shareLinks.filter((link) => link.id === share.id);
      if (links[0]?.views === 1) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.equal(links[0]?.views, 1);

    const revoked = await app.graphql<{ revokeShareLink: { revokedAt: string | null } }>(
      tenant.key,
      `mutation($id: ID!) { revokeShareLink(id: $id) { revokedAt } }`,
      { id: share.id },
    );
    assert.ok(revoked.body.data?.revokeShareLink.revokedAt);
    const gone = await fetch(share.url);
    assert.equal(gone.status, 410);
    assert.equal((await fetch(`${share.url}/media`)).status, 410);
    assert.equal((await fetch(share.url.replace(/[^/]{4}$/, "AAAA"))).status, 404);
  });
});
