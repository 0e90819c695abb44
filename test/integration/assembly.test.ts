/**
 * Mastering and final assembly against a real FFmpeg: the score mastered to −16 LUFS (±1) with
 * true peak ≤ −1 dBTP, measured on the delivered AAC; then clips joined and the master muxed by
 * copy, with moov before mdat, exact duration, a poster, and no black or frozen stretches.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readdir, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import sharp from "sharp";
import type { CameraMove } from "../../src/domain/vocabulary.js";
import { AppError } from "../../src/errors.js";
import { assembleVideo, masterScore } from "../../src/media/assembly.js";
import { probeMedia, withTempDir } from "../../src/media/ffmpeg.runner.js";
import { resolveFfmpegBinaries } from "../../src/media/ffmpeg-binaries.js";
import { LocalVideoProvider } from "../../src/providers/local/local-video.provider.js";
import { createMediaWorkerPool } from "../../src/workers/media-tasks.js";
import { fixturePhoto } from "../helpers/fixtures.js";
import { blackAndFrozen, measureLoudness, topLevelBoxes } from "../helpers/video-checks.js";

const bins = resolveFfmpegBinaries({
  ffmpegPath: process.env.PROPVID_TEST_FFMPEG,
  ffprobePath: process.env.PROPVID_TEST_FFPROBE,
});
const workers = createMediaWorkerPool({ size: 2 });
const WIDTH = 1280;
const HEIGHT = 720;
const CLIP_SECONDS = 2;

let dir = "";
let clips: string[] = [];
let release: () => void = () => {};
let done: Promise<unknown> = Promise.resolve();

before(async () => {
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  await new Promise<void>((ready, failed) => {
    done = withTempDir("propvid-assembly-test", async (created) => {
      dir = created;
      try {
        clips = await renderClips(created);
        ready();
      } catch (error) {
        failed(error);
      }
      await held;
    });
  });
});
after(async () => {
  release();
  await done;
  await workers.close();
});

async function renderClips(workDir: string): Promise<string[]> {
  const provider = new LocalVideoProvider({ ffmpeg: bins.ffmpeg, workers });
  const scenes: Array<[string, string, CameraMove]> = [
    ["exterior-01.jpg", "exterior-02.jpg", "PUSH_IN"],
    ["living-02.jpg", "living-03.jpg", "PAN_RIGHT"],
    ["kitchen-02.jpg", "kitchen-03.jpg", "CRANE_DOWN"],
  ];
  const files: string[] = [];
  for (const [index, [first, last, cameraMove]] of scenes.entries()) {
    const outFile = path.join(workDir, `scene-${index}.mp4`);
    await provider.render({
      firstImagePath: fixturePhoto(first),
      lastImagePath: fixturePhoto(last),
      cameraMove,
      prompt: "",
      seconds: CLIP_SECONDS,
      width: WIDTH,
      height: HEIGHT,
      fps: 30,
      outFile,
      workDir,
    });
    files.push(outFile);
  }
  return files;
}

/** A 16-bit 48 kHz stereo WAV, written in JS. */
async function writeWav(
  file: string,
  seconds: number,
  sample: (t: number, channel: number) => number,
): Promise<void> {
  const rate = 48_000;
  const frames = Math.round(seconds * rate);
  const data = Buffer.alloc(frames * 4);
  for (let i = 0; i < frames; i += 1) {
    for (let channel = 0; channel < 2; channel += 1) {
      const value = Math.max(-1, Math.min(1, sample(i / rate, channel)));
      data.writeInt16LE(Math.round(value * 32767), i * 4 + channel * 2);
    }
  }
  const header = Buffer.alloc(44);
  header.write("RIFF", 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write("WAVEfmt ", 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(2, 22);
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 4, 28);
  header.writeUInt16LE(4, 32);
  header.writeUInt16LE(16, 34);
  header.write("data", 36);
  header.writeUInt32LE(data.length, 40);
  await writeFile(file, Buffer.concat([header, data]));
}

/** Deterministic noise, so a failure reproduces. */
function noise(seed: number): () => number {
  let state = seed;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 31 - 1;
  };
}

/** A quiet, gently moving chord (about −25 LUFS): the easy case, linear gain. */
function quietChord(): (t: number, channel: number) => number {
  const rnd = noise(7);
  return (t, channel) => {
    const swell = 0.8 + 0.2 * Math.sin(2 * Math.PI * 0.5 * t + channel);
    const chord = [220, 277.18, 329.63, 440].reduce((sum, f) => sum + Math.sin(2 * Math.PI * f * t), 0);
    return 0.045 * swell * chord + 0.01 * rnd();
  };
}

/** A hot, spiky score (peaks at full scale over a quiet bed): needs the peak ceiling to hold. */
function spikyScore(): (t: number, channel: number) => number {
  const rnd = noise(11);
  return (t) => {
    const beat = t % 0.5;
    const hit = beat < 0.03 ? Math.exp(-beat * 120) * rnd() * 1.0 : 0;
    return hit + 0.03 * Math.sin(2 * Math.PI * 110 * t) + 0.004 * rnd();
  };
}

const TOTAL_SECONDS = 3 * CLIP_SECONDS;

const seconds = (from: number) => ((performance.now() - from) / 1000).toFixed(2);

const noPartials = async () =>
  assert.deepEqual(
    (await readdir(dir)).filter((f) => f.includes(".partial")),
    [],
  );

describe("masterScore + assembleVideo", () => {
  for (const [name, score, scoreSeconds, expectedMode] of [
    ["a quiet chord, longer than the video", quietChord(), TOTAL_SECONDS + 2.5, "linear"],
    ["a hot, spiky score, shorter than the video", spikyScore(), TOTAL_SECONDS - 1.5, "limited"],
  ] as const) {
    it(`masters ${name} and assembles it with 3 clips`, async (t) => {
      const slug = name.replaceAll(/\W+/g, "-");
      const scoreWav = path.join(dir, `${slug}.wav`);
      await writeWav(scoreWav, scoreSeconds, score);
      const scoreAudio = path.join(dir, `${slug}.m4a`);
      const fractions: number[] = [];
      let started = performance.now();
      const master = await masterScore({
        ffmpeg: bins.ffmpeg,
        ffprobe: bins.ffprobe,
        scoreWav,
        durationSeconds: TOTAL_SECONDS,
        fadeIn: 0.5,
        fadeOut: 1,
        outFile: scoreAudio,
        timeoutMs: 60_000,
        onProgress: (fraction) => fractions.push(fraction),
      });
      t.diagnostic(`mastered in ${seconds(started)} s: ${JSON.stringify(master)}`);
      assert.equal(master.byteSize, (await stat(scoreAudio)).size);
      assert.ok(Math.abs(master.durationSeconds - TOTAL_SECONDS) <= 0.05, `master ${master.durationSeconds}`);
      assert.deepEqual(
        fractions,
        [...fractions].sort((a, b) => a - b),
        "progress only moves forward",
      );
      assert.equal(fractions.at(-1), 1);
      const mastered = await probeMedia(bins.ffprobe, scoreAudio, { timeoutMs: 10_000 });
      assert.deepEqual(
        mastered.streams.map((s) => [s.type, s.codec, s.sampleRate, s.channels]),
        [["audio", "aac", 48_000, 2]],
      );
      assert.equal(master.loudness.normalization, expectedMode);

      const outFile = path.join(dir, "final.mp4");
      const posterFile = path.join(dir, "poster.jpg");
      started = performance.now();
      const result = await assembleVideo({
        ffmpeg: bins.ffmpeg,
        ffprobe: bins.ffprobe,
        clipFiles: clips,
        scoreAudio,
        outFile,
        posterFile,
        timeoutMs: 60_000,
      });
      t.diagnostic(`assembled in ${seconds(started)} s: ${JSON.stringify(result)}`);

      assert.equal(result.width, WIDTH);
      assert.equal(result.height, HEIGHT);
      assert.equal(result.frames, TOTAL_SECONDS * 30);
      assert.ok(
        Math.abs(result.durationSeconds - TOTAL_SECONDS) <= 0.1,
        `duration ${result.durationSeconds}`,
      );
      assert.equal(result.byteSize, (await stat(outFile)).size);

      const info = await probeMedia(bins.ffprobe, outFile, { timeoutMs: 10_000 });
      const video = info.streams.find((s) => s.type === "video")!;
      const audio = info.streams.find((s) => s.type === "audio")!;
      assert.equal(video.codec, "h264");
      assert.equal(video.frames, TOTAL_SECONDS * 30);
      assert.equal(audio.codec, "aac");
      assert.equal(audio.sampleRate, 48_000);
      assert.equal(audio.channels, 2);
      assert.ok(
        Math.abs((info.durationSeconds ?? 0) - TOTAL_SECONDS) <= 0.1,
        `container ${info.durationSeconds}`,
      );
      assert.ok(
        Math.abs((audio.durationSeconds ?? 0) - TOTAL_SECONDS) <= 0.1,
        `audio ${audio.durationSeconds}`,
      );

      const boxes = await topLevelBoxes(outFile);
      assert.ok(boxes.includes("moov") && boxes.includes("mdat"), boxes.join(","));
      assert.ok(boxes.indexOf("moov") < boxes.indexOf("mdat"), `moov after mdat: ${boxes.join(",")}`);

      const loudness = await measureLoudness(bins.ffmpeg, outFile);
      t.diagnostic(
        `measured in the video: ${loudness.integratedLufs} LUFS, true peak ${loudness.truePeakDbtp} dBTP`,
      );
      assert.ok(Math.abs(loudness.integratedLufs + 16) <= 1, `integrated ${loudness.integratedLufs} LUFS`);
      assert.ok(loudness.truePeakDbtp <= -1, `true peak ${loudness.truePeakDbtp} dBTP`);
      assert.deepEqual(
        { i: master.loudness.integratedLufs, tp: master.loudness.truePeakDbtp },
        { i: loudness.integratedLufs, tp: loudness.truePeakDbtp },
        "the master's reported loudness is the delivered one (the audio is copied)",
      );

      const { black, frozen } = await blackAndFrozen(bins.ffmpeg, outFile);
      assert.deepEqual(black, [], "no black frames (the video is not faded)");
      assert.deepEqual(frozen, [], "no freeze longer than 1 s");

      const poster = await sharp(posterFile).metadata();
      assert.equal(poster.format, "jpeg");
      assert.equal(poster.width, WIDTH);
      assert.equal(poster.height, HEIGHT);
      await noPartials();
    });
  }

  it("refuses a silent score, leaving no master", async () => {
    const scoreWav = path.join(dir, "silent.wav");
    await writeWav(scoreWav, 2, () => 0);
    const outFile = path.join(dir, "silent.m4a");
    await assert.rejects(
      masterScore({
        ffmpeg: bins.ffmpeg,
        ffprobe: bins.ffprobe,
        scoreWav,
        durationSeconds: 2,
        fadeIn: 0,
        fadeOut: 0,
        outFile,
        timeoutMs: 30_000,
      }),
      (error: unknown) => error instanceof AppError && error.code === "MEDIA_REJECTED",
    );
    assert.ok(!existsSync(outFile));
    await noPartials();
  });

  it("refuses an unmastered score or a master of another length, leaving no output", async () => {
    const scoreWav = path.join(dir, "unmastered.wav");
    await writeWav(scoreWav, TOTAL_SECONDS, quietChord());
    const shortMaster = path.join(dir, "short.m4a");
    await masterScore({
      ffmpeg: bins.ffmpeg,
      ffprobe: bins.ffprobe,
      scoreWav,
      durationSeconds: TOTAL_SECONDS - 1,
      fadeIn: 0,
      fadeOut: 0,
      outFile: shortMaster,
      timeoutMs: 30_000,
    });
    const outFile = path.join(dir, "refused.mp4");
    for (const [scoreAudio, message] of [
      [scoreWav, /not mastered/],
      [shortMaster, /mastered for 5(\.\d+)? s, the video is 6 s/],
    ] as const) {
      await assert.rejects(
        assembleVideo({
          ffmpeg: bins.ffmpeg,
          ffprobe: bins.ffprobe,
          clipFiles: clips,
          scoreAudio,
          outFile,
          posterFile: path.join(dir, "refused.jpg"),
          timeoutMs: 30_000,
        }),
        (error: unknown) =>
          error instanceof AppError && error.code === "MEDIA_REJECTED" && message.test(error.message),
      );
      assert.ok(!existsSync(outFile));
    }
  });

  it("refuses to join clips whose encodings differ, leaving no output", async () => {
    const provider = new LocalVideoProvider({ ffmpeg: bins.ffmpeg, workers });
    const odd = path.join(dir, "odd-size.mp4");
    await provider.render({
      firstImagePath: fixturePhoto("pool-01.jpg"),
      lastImagePath: fixturePhoto("pool-01.jpg"),
      cameraMove: "PUSH_IN",
      prompt: "",
      seconds: 0.5,
      width: 640,
      height: 360,
      fps: 30,
      outFile: odd,
      workDir: dir,
    });
    const scoreWav = path.join(dir, "short.wav");
    await writeWav(scoreWav, 1, quietChord());
    const scoreAudio = path.join(dir, "mismatch.m4a");
    await masterScore({
      ffmpeg: bins.ffmpeg,
      ffprobe: bins.ffprobe,
      scoreWav,
      durationSeconds: CLIP_SECONDS + 0.5,
      fadeIn: 0,
      fadeOut: 0,
      outFile: scoreAudio,
      timeoutMs: 30_000,
    });
    const outFile = path.join(dir, "mismatch.mp4");
    await assert.rejects(
      assembleVideo({
        ffmpeg: bins.ffmpeg,
        ffprobe: bins.ffprobe,
        clipFiles: [clips[0]!, odd],
        scoreAudio,
        outFile,
        posterFile: path.join(dir, "mismatch.jpg"),
        timeoutMs: 30_000,
      }),
      (error: unknown) =>
        error instanceof AppError && error.code === "MEDIA_REJECTED" && /by copy/.test(error.message),
    );
    assert.ok(!existsSync(outFile));
  });
});
