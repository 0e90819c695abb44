/**
 * The overlay builders on the bundled FFmpeg (the 2018 static build, ≈4.1: no xfade) as well as
 * on the system's: burn a timed layer into the first GOP, take the clip's tail by in-point,
 * render an outro, join by stream copy — small frames, so it takes seconds.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { describe, it } from "node:test";
import sharp from "sharp";
import { probeMedia, runFfmpeg, withTempDir } from "../../src/media/ffmpeg.runner.js";
import { findOnPath } from "../../src/media/ffmpeg-binaries.js";
import { concatCopyArgs } from "../../src/media/ffmpeg-commands.js";
import { burnOverlaysArgs, cutListContent, outroClipArgs } from "../../src/render/overlay-commands.js";
import { fixturePhoto } from "../helpers/fixtures.js";
import { extractFrame, frameDifference, regionMean, stillClips } from "../helpers/render-checks.js";

const require = createRequire(import.meta.url);
const bundled = (require("@ffmpeg-installer/ffmpeg") as { path: string }).path;
const ffprobe =
  findOnPath("ffprobe", process.env.PATH) ?? (require("@ffprobe-installer/ffprobe") as { path: string }).path;
const system = findOnPath("ffmpeg", process.env.PATH);
const binaries: Array<[string, string]> = [["bundled 4.1", bundled]];
if (system) binaries.push(["system", system]);

const WIDTH = 640;
const HEIGHT = 360;

for (const [name, ffmpeg] of binaries) {
  describe(`overlay builders on ${name} FFmpeg`, () => {
    it("a burned head, the clip's tail by in-point and an outro join by copy, the overlay where it belongs", async () => {
      await withTempDir("propvid-render-ffmpeg-test", async (dir) => {
        const [clip] = await stillClips(ffmpeg, dir, [fixturePhoto("living-01.jpg")], {
          width: WIDTH,
          height: HEIGHT,
          seconds: 4,
        });
        const layer = path.join(dir, "layer.png");
        await sharp({
          create: { width: 200, height: 60, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 0.9 } },
        })
          .png()
          .toFile(layer);
        const head = path.join(dir, "head.mp4");
        const outro = path.join(dir, "outro.mp4");
        const timeout = { timeoutMs: 120_000 };
        await runFfmpeg(
          ffmpeg,
          burnOverlaysArgs({
            inFile: clip!,
            outFile: head,
            frames: 60,
            layers: [{ pngFile: layer, x: 40, y: 40, start: 0.4, end: 1.9, fadeSeconds: 0.3 }],
          }),
          timeout,
        );
        const background = path.join(dir, "bg.png");
        await sharp(fixturePhoto("pool-01.jpg")).resize(346, 194).png().toFile(background);
        await runFfmpeg(
          ffmpeg,
          outroClipArgs({
            backgroundFile: background,
            // two cards over one push, as the two cuts' outros are made
            cards: [
              { cardFile: layer, cardX: 220, cardY: 150, outFile: outro },
              { cardFile: layer, cardX: 20, cardY: 20, outFile: path.join(dir, "outro-2.mp4") },
            ],
            width: WIDTH,
            height: HEIGHT,
            seconds: 1,
          }),
          timeout,
        );
        const list = path.join(dir, "list.ffconcat");
        await writeFile(
          list,
          cutListContent([
            { file: head, duration: 2 },
            { file: clip!, inpoint: 2, duration: 2 },
            { file: outro, duration: 1 },
          ]),
        );
        const joined = path.join(dir, "joined.mp4");
        await runFfmpeg(ffmpeg, concatCopyArgs(list, joined), timeout);

        const info = await probeMedia(ffprobe, joined, { timeoutMs: 30_000 });
        assert.ok(Math.abs((info.durationSeconds ?? 0) - 5) < 0.05, `duration ${info.durationSeconds}`);
        const frame = (video: string, at: number) =>
          extractFrame(ffmpeg, video, at, path.join(dir, `${path.basename(video)}-${at}.png`));
        // the layer is on screen at 1 s (red box at 40,40), gone in the tail, the card on the outro
        const shown = await regionMean(await frame(joined, 1), { left: 60, top: 50, width: 20, height: 20 });
        assert.ok(shown[0]! > 180 && shown[1]! < 80, `red at 1 s: ${shown}`);
        assert.equal((await frameDifference(await frame(joined, 3), await frame(clip!, 3))).worstBlock, 0);
        const card = await regionMean(await frame(joined, 4.5), {
          left: 240,
          top: 160,
          width: 20,
          height: 20,
        });
        assert.ok(card[0]! > 180 && card[1]! < 80, `card at 4.5 s: ${card}`);
        // the background pushes in through the outro (one decoded picture, zoompan's frames)
        const push = await frameDifference(await frame(joined, 4.02), await frame(joined, 4.95));
        assert.ok(push.worstBlock > 2, `the outro's background moves: ${JSON.stringify(push)}`);
        // the second clip of the same run: its own card, where it was put, the same length
        const second = path.join(dir, "outro-2.mp4");
        const other = await regionMean(await frame(second, 0.5), {
          left: 40,
          top: 30,
          width: 20,
          height: 20,
        });
        assert.ok(other[0]! > 180 && other[1]! < 80, `second card at 0.5 s: ${other}`);
        const secondInfo = await probeMedia(ffprobe, second, { timeoutMs: 30_000 });
        assert.equal(secondInfo.streams.find((stream) => stream.type === "video")?.frames, 30);
        assert.equal(info.streams.find((stream) => stream.type === "video")?.frames ?? 150, 150);
      });
    });
  });
}
