/**
 * Both cuts of a short video rendered with real FFmpeg, then read back like a viewer would:
 * OCR (tesseract) finds the address and price in the title, the agent in the branded outro and
 * nowhere in the unbranded cut; the branded outro's QR code decodes to the listing URL and the
 * unbranded cut has none. Three 4 s 1080p scenes: the title, a room caption (first GOP burned,
 * the tail copied), a generated scene with the disclosure; then a 3 s outro per cut.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, it } from "node:test";
import { probeMedia, runFfmpeg } from "../../src/media/ffmpeg.runner.js";
import { concatCopyArgs } from "../../src/media/ffmpeg-commands.js";
import { planComposition } from "../../src/render/composition-plan.js";
import { type RenderedCuts, renderCuts } from "../../src/render/cut-renderer.js";
import { hasBrandedOutro } from "../../src/render/outro-card.js";
import { fixturePhoto } from "../helpers/fixtures.js";
import {
  extractFrame,
  frameDifference,
  ocrContains,
  readFrame,
  stillClips,
  tempDirForFile,
  testFfmpegBinaries,
} from "../helpers/render-checks.js";
import { SAMPLE_AGENT, SAMPLE_LISTING_URL, sampleSpec } from "../helpers/render-fixtures.js";

const bins = testFfmpegBinaries();

const LISTING_URL = SAMPLE_LISTING_URL;
const AGENT = SAMPLE_AGENT;

let rendered: RenderedCuts;
const videos = { branded: "", unbranded: "" };
const scratch = tempDirForFile("propvid-render-cuts-test", renderBoth);

async function renderBoth(workDir: string): Promise<void> {
  const clips = await stillClips(
    bins.ffmpeg,
    workDir,
    ["exterior-01.jpg", "kitchen-02.jpg", "bedroom-01.jpg"].map(fixturePhoto),
    { width: 1920, height: 1080, seconds: 4 },
  );
  const spec = sampleSpec();
  spec.agent = { ...AGENT, photo: await readFile(fixturePhoto("living-01.jpg")) };
  const plan = planComposition(
    clips.map((clipFile, index) => ({
      index,
      clipFile,
      seconds: 4,
      sceneType: (["EXTERIOR", "KITCHEN", "BEDROOM"] as const)[index]!,
      aiGenerated: index === 2,
    })),
    { brandedOutro: hasBrandedOutro(spec) },
  );
  rendered = await renderCuts(plan, spec, {
    ffmpeg: bins.ffmpeg,
    workDir,
    outroPhoto: fixturePhoto("pool-01.jpg"),
  });
  for (const cut of ["branded", "unbranded"] as const) {
    videos[cut] = path.join(workDir, `${cut}.mp4`);
    await runFfmpeg(bins.ffmpeg, concatCopyArgs(rendered.cuts[cut].listFile, videos[cut]), {
      timeoutMs: 60_000,
    });
  }
}

describe("two cuts from one set of clips", () => {
  it("share every segment but the outro, and join by stream copy into 15 s of house video", async () => {
    const { branded, unbranded } = rendered.cuts;
    assert.deepEqual(branded.entries.slice(0, -1), unbranded.entries.slice(0, -1));
    assert.notEqual(branded.entries.at(-1)!.file, unbranded.entries.at(-1)!.file);
    // the kitchen clip's tail is the source clip itself from its 2 s keyframe
    assert.ok(branded.entries.some((entry) => entry.file.endsWith("clip-1.mp4") && entry.inpoint === 2));
    for (const video of [videos.branded, videos.unbranded]) {
      const info = await probeMedia(bins.ffprobe, video, { timeoutMs: 30_000 });
      const stream = info.streams.find((s) => s.type === "video")!;
      assert.equal(stream.codec, "h264");
      assert.equal(stream.pixFmt, "yuv420p");
      assert.deepEqual([stream.width, stream.height, stream.fps], [1920, 1080, 30]);
      assert.ok(Math.abs((info.durationSeconds ?? 0) - 15) < 0.05, `duration ${info.durationSeconds}`);
    }
  });

  it("the title shows the address and the formatted price", async () => {
    for (const video of [videos.branded, videos.unbranded]) {
      const frame = await readFrame(bins.ffmpeg, video, 1.5, scratch.path());
      assert.ok(ocrContains(frame.text, "1847 Willow Creek Lane"), frame.text);
      assert.ok(ocrContains(frame.text, "$1,250,000"), frame.text);
    }
  });

  it("room captions are burned in their window; the rest of the clip is the source, bit for bit", async () => {
    const source = path.join(scratch.path(), "clip-1.mp4");
    const frame = async (video: string, at: number) =>
      extractFrame(bins.ffmpeg, video, at, path.join(scratch.path(), `${path.basename(video)}-${at}.png`));
    // 5.2 s of the video is 1.2 s into the kitchen clip: the caption is on screen
    const captioned = await frameDifference(await frame(videos.branded, 5.2), await frame(source, 1.2));
    assert.ok(captioned.worstBlock > 40, `caption visible: ${JSON.stringify(captioned)}`);
    // 7 s is 3 s into the clip, in the copied tail: identical pixels
    const tail = await frameDifference(await frame(videos.branded, 7), await frame(source, 3));
    assert.equal(tail.worstBlock, 0);
  });

  it("a generated scene carries a legible AI disclosure", async () => {
    const frame = await readFrame(bins.ffmpeg, videos.branded, 9.2, scratch.path());
    assert.ok(ocrContains(frame.text, "virtually enhanced"), frame.text);
  });

  it("the branded outro shows the agent and a QR code to the listing", async () => {
    const frame = await readFrame(bins.ffmpeg, videos.branded, 13.5, scratch.path());
    assert.ok(ocrContains(frame.text, AGENT.name), frame.text);
    assert.ok(ocrContains(frame.text, AGENT.phone), frame.text);
    assert.equal(frame.qr, LISTING_URL);
  });

  it("no frame of the unbranded cut names the agent or carries a QR code", async () => {
    let last = "";
    for (const at of [1.5, 5.2, 9.2, 12.1, 14.9]) {
      const frame = await readFrame(bins.ffmpeg, videos.unbranded, at, scratch.path());
      for (const value of [AGENT.name, "avery", AGENT.phone, "555-0142", AGENT.brokerage, "seaside"]) {
        assert.ok(!ocrContains(frame.text, value), `${value} at ${at}s: ${frame.text}`);
      }
      assert.equal(frame.qr, null, `QR code at ${at}s`);
      last = frame.text;
    }
    // the unbranded outro still recaps the property
    assert.ok(ocrContains(last, "$1,250,000"), last);
  });

  it("each cut has a WebVTT track of its overlays; only the branded one names the agent", () => {
    const { branded, unbranded } = rendered.cuts;
    for (const vtt of [branded.captions, unbranded.captions]) {
      assert.match(vtt, /^WEBVTT\n\n1\n00:00:00\.000 --> 00:00:03\.000\nJUST LISTED\n1847 Willow Creek Lane/);
      assert.match(vtt, /00:00:04\.400 --> 00:00:05\.900\nKitchen/);
      assert.match(vtt, /00:00:08\.000 --> 00:00:12\.000\nVirtually enhanced — AI-generated motion/);
    }
    assert.match(branded.captions, /00:00:12\.000 --> 00:00:15\.000\nBook a private showing\nJordan Avery/);
    assert.ok(!unbranded.captions.includes("Jordan") && !unbranded.captions.includes("Seaside"));
  });
});
