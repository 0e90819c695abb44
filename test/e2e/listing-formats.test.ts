/**
 * The listing video in every format (issue 12), through the real pipeline with the embedded
 * providers: short jobs (2 scenes of 2 s, then the 3 s outro) so the matrix stays cheap. Both
 * cuts meet the quality bar; the captions track is served as text/vtt; the 9:16 cut keeps every
 * word Tesseract reads inside the safe zone (clear of the top 14 %, the bottom 35 %, 6 % at the
 * sides).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { type InProcessApp, startInProcessApp } from "../helpers/app.js";
import {
  assertQualityBar,
  download,
  type ListingJobView,
  listingCampaign,
  runListingJob,
} from "../helpers/listing.js";
import { readFrame } from "../helpers/render-checks.js";

// 16:9 is the 7-scene job of listing-video.test.ts
const FORMATS = [
  ["PORTRAIT_9_16", 1080, 1920],
  ["SQUARE_1_1", 1080, 1080],
  ["PORTRAIT_4_5", 1080, 1350],
] as const;
const SECONDS = 2 * 2 + 3;
const normalise = (word: string) => word.toLowerCase().replace(/[^a-z0-9]/g, "");

describe("listing video formats: both cuts in 9:16, 1:1 and 4:5", () => {
  let app: InProcessApp;
  let key: string;
  let campaignId: string;
  let dir: string;
  /** The three jobs run at once (the workers take them in parallel); each test checks one. */
  let jobs: Map<string, Promise<ListingJobView>>;

  before(async () => {
    app = await startInProcessApp({ PATH: process.env.PATH ?? "" });
    let tenantId: string;
    ({ key, tenantId } = await app.newTenant("listing-formats"));
    ({ campaignId } = await listingCampaign(app, key, tenantId, [
      "exterior-01.jpg",
      "living-01.jpg",
      "kitchen-01.jpg",
    ]));
    dir = mkdtempSync(path.join(os.tmpdir(), "propvid-listing-formats-"));
    jobs = new Map(
      FORMATS.map(([format]) => {
        const job = runListingJob(
          app,
          key,
          {
            campaignId,
            sceneCount: 2,
            secondsPerScene: 2,
            aspectRatio: format,
          },
          600_000,
        );
        job.catch(() => undefined); // awaited by its test
        return [format, job];
      }),
    );
  });
  after(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const [format, width, height] of FORMATS) {
    it(`${format}: both cuts meet the quality bar, with captions beside them`, async (t) => {
      const started = Date.now();
      const job = await jobs.get(format)!;
      t.diagnostic(`${format}: waited ${((Date.now() - started) / 1000).toFixed(1)} s for the job`);
      assert.equal(job.template, "JUST_LISTED");
      assert.notEqual(job.video.url, job.unbrandedVideo.url, "two cuts");
      for (const [cut, view] of [
        ["branded", job.video],
        ["unbranded", job.unbrandedVideo],
      ] as const) {
        assert.equal(view.aiDisclosure, null, "embedded camera moves carry no disclosure");
        assert.deepEqual([view.width, view.height], [width, height]);
        assert.ok(Math.abs(view.durationSeconds - SECONDS) <= 0.1, `${cut}: ${view.durationSeconds}`);
        const file = path.join(dir, `${format}-${cut}.mp4`);
        await download(app, view.url, file);
        await assertQualityBar(app, file, { seconds: SECONDS, width, height });
        const vttFile = path.join(dir, `${format}-${cut}.vtt`);
        assert.match(await download(app, view.captionsUrl, vttFile), /^text\/vtt/);
        const vtt = await readFile(vttFile, "utf8");
        assert.ok(vtt.startsWith("WEBVTT"), vtt.slice(0, 40));
        assert.ok(vtt.includes("1847 Willow Creek Lane"), `${cut} captions name the address`);
        assert.equal(vtt.includes("Jordan Avery"), cut === "branded", `${cut} captions and the agent`);
      }

      if (format === "PORTRAIT_9_16") {
        // the title (1 s) and the outro card (5.5 s) of the branded cut
        const safe = { left: width * 0.06, right: width * 0.94, top: height * 0.14, bottom: height * 0.65 };
        const file = path.join(dir, `${format}-branded.mp4`);
        const vtt = await readFile(path.join(dir, `${format}-branded.vtt`), "utf8");
        const shown = new Set(
          vtt
            .split(/\s+/)
            .map(normalise)
            .filter((word) => word.length >= 2),
        );
        for (const at of [1, 5.5]) {
          const frame = await readFrame(app.services.ffmpeg.ffmpeg, file, at, dir);
          // the overlay's words, told apart from whatever OCR makes of the photo behind them
          const words = frame.words.filter((word) => shown.has(normalise(word.text)));
          assert.ok(words.length >= 3, `OCR read ${words.length} overlay words at ${at} s: ${frame.text}`);
          for (const word of words) {
            assert.ok(
              word.left >= safe.left - 2 &&
                word.left + word.width <= safe.right + 2 &&
                word.top >= safe.top - 2 &&
                word.top + word.height <= safe.bottom + 2,
              `"${word.text}" at ${at} s (${word.left},${word.top} ${word.width}×${word.height}) leaves the safe zone`,
            );
          }
          if (at === 1) assert.ok(frame.text.includes("willow"), `title at 1 s: ${frame.text}`);
        }
      }
    });
  }
});
