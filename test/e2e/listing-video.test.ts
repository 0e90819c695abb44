/**
 * The listing video end to end (issue 12's tests), read back the way a viewer would: frames
 * extracted with FFmpeg, text read by Tesseract, QR codes decoded with jsQR — never by asking
 * our overlay code what it drew.
 *
 * - A 7-scene JUST_LISTED job with every field set renders both cuts (31 s: 7 × 4 s and the
 *   3 s outro). The branded cut shows the address and the formatted price in its first 3 s,
 *   the agent's name and phone in its last 4 s, and a QR code pointing at the listing URL; no
 *   sampled frame of the unbranded cut shows the agent's name, phone, brokerage or a QR code.
 * - A job on the Replicate stand-in shows the disclosure label on its scenes and sets
 *   `aiDisclosure` (the embedded job above does neither).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { resolveFfmpegBinaries } from "../../src/media/ffmpeg-binaries.js";
import { DEFAULT_AI_DISCLOSURE } from "../../src/render/listing-format.js";
import { type InProcessApp, startInProcessApp } from "../helpers/app.js";
import { FakeReplicate, fakeWebhookSecret } from "../helpers/fake-replicate.js";
import {
  assertQualityBar,
  download,
  LISTING,
  listingCampaign,
  runListingJob,
  SAMPLE_AGENT,
} from "../helpers/listing.js";
import { SEVEN_SCENE_PHOTOS } from "../helpers/pipeline.js";
import { ocrContains, readFrame } from "../helpers/render-checks.js";

const REPLICATE_TOKEN = "test-replicate-token";
const SECONDS = 7 * 4 + 3;

describe("listing video: both cuts of a 7-scene job, OCR and QR", () => {
  let app: InProcessApp;
  let replicate: FakeReplicate;
  let key: string;
  let campaignId: string;
  let dir: string;

  before(async () => {
    const { ffmpeg } = resolveFfmpegBinaries({ searchPath: process.env.PATH ?? "" });
    const secret = fakeWebhookSecret();
    replicate = await new FakeReplicate({ token: REPLICATE_TOKEN, ffmpeg, webhookSecret: secret }).start();
    app = await startInProcessApp(
      {
        PATH: process.env.PATH ?? "",
        REPLICATE_API_TOKEN: REPLICATE_TOKEN,
        REPLICATE_BASE_URL: replicate.baseUrl,
        REPLICATE_WEBHOOK_SECRET: secret,
        PROPVID_TEST_ALLOW_LOOPBACK_FETCH: "1",
        REPLICATE_OUTPUT_HOSTS: "127.0.0.1",
      },
      { listen: true },
    );
    let tenantId: string;
    ({ key, tenantId } = await app.newTenant("listing-video"));
    ({ campaignId } = await listingCampaign(app, key, tenantId, SEVEN_SCENE_PHOTOS));
    dir = mkdtempSync(path.join(os.tmpdir(), "propvid-listing-video-"));
  });
  after(async () => {
    await app?.close();
    await replicate?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("renders both cuts: facts up front, the agent and a QR code only in the branded outro", async (t) => {
    const started = Date.now();
    const job = await runListingJob(
      app,
      key,
      { campaignId, template: "JUST_LISTED", captions: true },
      600_000,
    );
    t.diagnostic(`7-scene listing job: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    assert.equal(job.video.aiDisclosure, null, "camera moves over the real photos carry no disclosure");
    const { ffmpeg } = app.services.ffmpeg;
    const files = { branded: path.join(dir, "branded.mp4"), unbranded: path.join(dir, "unbranded.mp4") };
    await download(app, job.video.url, files.branded);
    await download(app, job.unbrandedVideo.url, files.unbranded);
    for (const file of Object.values(files))
      await assertQualityBar(app, file, { seconds: SECONDS, width: 1920, height: 1080 });

    // first 3 s of the branded cut: the address and the formatted price
    const opening = await Promise.all([1, 2.2].map((at) => readFrame(ffmpeg, files.branded, at, dir)));
    const openingText = opening.map((frame) => frame.text).join(" ");
    assert.ok(ocrContains(openingText, "1847 Willow Creek"), `address in the title: ${openingText}`);
    assert.ok(ocrContains(openingText, LISTING.formattedPrice), `price in the title: ${openingText}`);

    // last 4 s: the agent's name and phone, and a QR code for the listing URL
    const closing = await Promise.all([28, 30].map((at) => readFrame(ffmpeg, files.branded, at, dir)));
    const closingText = closing.map((frame) => frame.text).join(" ");
    assert.ok(ocrContains(closingText, SAMPLE_AGENT.name), `agent's name in the outro: ${closingText}`);
    assert.ok(ocrContains(closingText, "555-0142"), `agent's phone in the outro: ${closingText}`);
    assert.ok(
      closing.some((frame) => frame.qr === LISTING.listingUrl),
      `QR codes: ${closing.map((frame) => frame.qr)}`,
    );

    // the unbranded cut: one frame in every scene and every second of the outro, two at a time
    const samples = [...Array.from({ length: 7 }, (_, i) => i * 4 + 1), 27.5, 28.5, 29.5, 30.5];
    for (let i = 0; i < samples.length; i += 2) {
      const pair = samples.slice(i, i + 2);
      const frames = await Promise.all(pair.map((at) => readFrame(ffmpeg, files.unbranded, at, dir)));
      for (const [k, frame] of frames.entries()) {
        const at = pair[k]!;
        for (const secret of ["Jordan", "Avery", "555-0142", "Seaside", "Realty"]) {
          assert.ok(
            !ocrContains(frame.text, secret),
            `unbranded cut shows "${secret}" at ${at} s: ${frame.text}`,
          );
        }
        assert.equal(frame.qr, null, `unbranded cut shows a QR code at ${at} s`);
        if (at === 1) assert.ok(ocrContains(frame.text, "1847 Willow Creek"), "property facts are allowed");
      }
    }
  });

  it("shows the AI disclosure on scenes from a generative model and sets aiDisclosure", async () => {
    const job = await runListingJob(app, key, {
      campaignId,
      sceneCount: 2,
      secondsPerScene: 4,
      videoProvider: "replicate:google/veo-3.1-fast",
      captions: false,
    });
    assert.equal(job.video.aiDisclosure, DEFAULT_AI_DISCLOSURE);
    assert.equal(job.unbrandedVideo.aiDisclosure, DEFAULT_AI_DISCLOSURE);
    const file = path.join(dir, "generated.mp4");
    await download(app, job.video.url, file);
    // the label stays on for the whole of each generated scene (the title leaves after 3 s)
    for (const at of [3.5, 6]) {
      const frame = await readFrame(app.services.ffmpeg.ffmpeg, file, at, dir);
      // Tesseract reads the label's "AI" as "al" at times: check the words around it
      assert.ok(
        ocrContains(frame.text, "virtually enhanced") && ocrContains(frame.text, "generated motion"),
        `disclosure at ${at} s: ${frame.text}`,
      );
    }
  });
});
