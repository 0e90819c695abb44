import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { isAppError } from "../../src/errors.js";
import { LocalMusicProvider, pumpGain } from "../../src/providers/local/local-music.provider.js";
import { moodProfile } from "../../src/providers/local/music-theory.js";
import { composeScore, scoreSeed } from "../../src/providers/local/score-composer.js";
import { intensityAt, LAYERS, planTimeline } from "../../src/providers/local/score-timeline.js";
import { type DecodedWav, encodeWav, readWav, wavHeader } from "../../src/providers/local/wav.js";
import { MUSIC_MOODS, type MusicMood, type MusicSegment, SCENE_TYPES } from "../../src/providers/types.js";

const SR = 48000;
const run = promisify(execFile);
const ffmpegPath: string = createRequire(import.meta.url)("@ffmpeg-installer/ffmpeg").path;

const scenes = (count: number, seconds: number): MusicSegment[] =>
  Array.from({ length: count }, (_, i) => ({ sceneType: SCENE_TYPES[i % SCENE_TYPES.length], seconds }));

const dbfs = (x: number): number => 20 * Math.log10(Math.max(x, 1e-12));

function rms(wav: DecodedWav, from: number, to: number): number {
  const [l, r] = wav.channelData;
  let sum = 0;
  for (let i = from; i < to; i++) sum += (l[i] * l[i] + r[i] * r[i]) / 2;
  return Math.sqrt(sum / Math.max(1, to - from));
}

/** ebur128 over the file with the bundled ffmpeg: integrated loudness and momentary loudness per second. */
async function loudness(file: string): Promise<{ integrated: number; momentary: number[] }> {
  const { stderr } = await run(
    ffmpegPath,
    [
      "-hide_banner",
      "-nostats",
      "-protocol_whitelist",
      "file,pipe",
      "-i",
      file,
      "-af",
      "ebur128",
      "-f",
      "null",
      "-",
    ],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  const summary = stderr.slice(stderr.lastIndexOf("Summary:"));
  const integrated = Number(/I:\s+(-?[\d.]+) LUFS/.exec(summary)?.[1]);
  const momentary: number[] = [];
  for (const line of stderr.split("\n")) {
    const t = /\bt:\s*([\d.]+)/.exec(line);
    const m = /\bM:\s*(-?[\d.]+)/.exec(line);
    if (t && m && Math.round(Number(t[1]) * 10) % 10 === 0) momentary.push(Number(m[1]));
  }
  return { integrated, momentary };
}

describe("wav", () => {
  const signal = Float32Array.from({ length: 1000 }, (_, i) => 0.9 * Math.sin(i / 7));

  for (const sampleFormat of ["pcm16", "pcm24", "float32"] as const) {
    it(`round-trips ${sampleFormat}`, () => {
      const file = encodeWav([signal, signal.map((x) => -x)], { sampleRate: SR, sampleFormat });
      const wav = readWav(file);
      assert.equal(wav.sampleRate, SR);
      assert.equal(wav.channels, 2);
      assert.equal(wav.frames, 1000);
      assert.equal(wav.sampleFormat, sampleFormat);
      const tolerance = sampleFormat === "pcm16" ? 1e-4 : 1e-6;
      for (let i = 0; i < 1000; i++) {
        assert.ok(Math.abs(wav.channelData[0][i] - signal[i]) < tolerance);
        assert.ok(Math.abs(wav.channelData[1][i] + signal[i]) < tolerance);
      }
    });
  }

  it("writes a canonical 44-byte PCM header with the sizes filled in", () => {
    const header = wavHeader({ sampleRate: SR, channels: 2, sampleFormat: "pcm24" }, 48000);
    assert.equal(header.length, 44);
    assert.equal(header.toString("ascii", 0, 4), "RIFF");
    assert.equal(header.readUInt32LE(4), 36 + 48000 * 6);
    assert.equal(header.readUInt32LE(40), 48000 * 6);
    assert.equal(header.readUInt16LE(34), 24);
  });

  it("clamps out-of-range samples instead of wrapping", () => {
    const wav = readWav(encodeWav([Float32Array.of(1.5, -1.5)], { sampleRate: SR, sampleFormat: "pcm16" }));
    assert.ok(wav.channelData[0][0] > 0.99 && wav.channelData[0][1] < -0.99);
  });
});

describe("score composer", () => {
  it("fits a whole number of beats plus a ring-out into any length, near the mood's tempo", () => {
    for (const total of [6, 12, 17.5, 28, 45, 90]) {
      for (const mood of MUSIC_MOODS) {
        const nominal = moodProfile(mood).bpm;
        const t = planTimeline(total, nominal);
        assert.ok(Math.abs(t.cadenceSeconds + t.tailSeconds - total) < 1e-9);
        assert.equal(t.cadenceBeat % 2, 0);
        assert.ok(Math.abs(t.cadenceBeat * t.beatSeconds - t.cadenceSeconds) < 1e-9);
        assert.ok(t.tailSeconds >= 1 && t.tailSeconds <= 3.8, `${mood} ${total}s tail ${t.tailSeconds}`);
        if (total >= 12) assert.ok(Math.abs(t.bpm / nominal - 1) < 0.1, `${mood} ${total}s at ${t.bpm} bpm`);
      }
    }
  });

  it("brings layers in one after another, on bar lines, as the scenes go by", () => {
    const segments = scenes(7, 4);
    const score = composeScore({ mood: "LUXURY", segments, sampleRate: SR, seed: 1 });
    const bar = 4 * score.timeline.beatSeconds;
    const entries = LAYERS.map((layer) => score.layerEntries[layer]);
    assert.ok(entries.every((at) => at !== null && at > 0 && at < score.timeline.cadenceSeconds));
    for (let i = 1; i < entries.length; i++) assert.ok((entries[i] as number) > (entries[i - 1] as number));
    for (const at of entries)
      assert.ok(Math.abs((at as number) / bar - Math.round((at as number) / bar)) < 1e-9);
    // Each layer enters within a bar of a scene cut.
    for (const at of entries)
      assert.ok(score.sceneStarts.some((s) => Math.abs(s - (at as number)) <= bar / 2 + 1e-9));
  });

  it("changes chords on bar lines and closes with cadential → tonic", () => {
    for (const mood of MUSIC_MOODS) {
      const score = composeScore({ mood, segments: scenes(5, 3.5), sampleRate: SR, seed: 2 });
      const { slots, profile } = score;
      const tonic = slots[slots.length - 1];
      const cadential = slots[slots.length - 2];
      assert.equal(tonic.role, "tonic");
      assert.deepEqual(tonic.chord, profile.cadence.tonic);
      assert.equal(cadential.role, "cadential");
      assert.deepEqual(cadential.chord, profile.cadence.cadential);
      assert.equal(tonic.startBeat, score.timeline.cadenceBeat);
      for (const slot of slots.slice(0, -2)) assert.equal(slot.startBeat % 4, 0);
    }
  });

  it("keeps every note inside the track, sorted, and grows louder towards the cadence", () => {
    const score = composeScore({ mood: "UPBEAT", segments: scenes(7, 4), sampleRate: SR, seed: 3 });
    let previous = 0;
    for (const e of score.events) {
      assert.ok(e.start >= previous);
      previous = e.start;
      assert.ok(e.start + e.gate + e.release <= score.totalFrames);
      assert.ok(e.gate > 0 && e.release > 0 && e.velocity > 0);
    }
    const { timeline } = score;
    let last = 0;
    for (let t = 0; t <= timeline.cadenceSeconds; t += 0.5) {
      const x = intensityAt(timeline, t);
      assert.ok(x >= last);
      last = x;
    }
    assert.ok(intensityAt(timeline, timeline.totalSeconds) < last);
  });

  it("seeds from the whole request", () => {
    const a = scoreSeed("WARM", scenes(3, 4), SR);
    assert.equal(a, scoreSeed("WARM", scenes(3, 4), SR));
    assert.notEqual(a, scoreSeed("WARM", scenes(3, 4.5), SR));
    assert.notEqual(a, scoreSeed("CALM", scenes(3, 4), SR));
  });

  it("pumps smoothly: 1 on the beat, a dip just after, back to 1 by the next", () => {
    assert.equal(pumpGain(0, 0.35), 1);
    assert.equal(pumpGain(3, 0.35), 1);
    assert.ok(pumpGain(0.05, 0.35) < 0.7);
    assert.ok(Math.abs(pumpGain(0.999, 0.35) - 1) < 1e-6);
  });
});

describe("LocalMusicProvider", () => {
  const provider = new LocalMusicProvider();
  let dir = "";
  const cases: { mood: MusicMood; segments: MusicSegment[]; frames: number }[] = [
    { mood: "LUXURY", segments: scenes(7, 4), frames: 28 * SR },
    { mood: "UPBEAT", segments: scenes(7, 4), frames: 28 * SR },
    { mood: "MODERN", segments: scenes(5, 3.5), frames: 17.5 * SR },
    { mood: "WARM", segments: scenes(3, 4), frames: 12 * SR },
    { mood: "CALM", segments: scenes(5, 3.5), frames: 17.5 * SR },
  ];
  const rendered = new Map<MusicMood, { file: string; bytes: Buffer; wav: DecodedWav; ms: number }>();

  const request = (mood: MusicMood, segments: MusicSegment[], outFile: string) => ({
    mood,
    segments,
    sampleRate: SR,
    outFile,
    workDir: dir,
  });

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "propvid-local-music-"));
    for (const c of cases) {
      const file = path.join(dir, `${c.mood}.wav`);
      const started = performance.now();
      const result = await provider.compose(request(c.mood, c.segments, file));
      const ms = performance.now() - started;
      assert.equal(result.outFile, file);
      const bytes = await readFile(file);
      rendered.set(c.mood, { file, bytes, wav: readWav(bytes), ms });
    }
  });

  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("renders exactly sum(seconds) of 48 kHz stereo, well under 3 s for 28 s", (t) => {
    for (const c of cases) {
      const { wav, ms } = rendered.get(c.mood)!;
      assert.equal(wav.frames, c.frames, c.mood);
      assert.equal(wav.channels, 2);
      assert.equal(wav.sampleRate, SR);
      t.diagnostic(`${c.mood}: ${(c.frames / SR).toFixed(1)} s rendered in ${ms.toFixed(0)} ms`);
    }
    assert.ok(rendered.get("LUXURY")!.ms < 3000);
  });

  it("has no NaN/Inf and peaks at or below −1 dBFS", () => {
    for (const c of cases) {
      const { wav } = rendered.get(c.mood)!;
      let peak = 0;
      for (const ch of wav.channelData) {
        for (const x of ch) {
          assert.ok(Number.isFinite(x));
          peak = Math.max(peak, Math.abs(x));
        }
      }
      assert.ok(dbfs(peak) <= -1, `${c.mood} peaks at ${dbfs(peak).toFixed(2)} dBFS`);
      assert.ok(dbfs(peak) > -12, `${c.mood} is suspiciously quiet`);
    }
  });

  it("never drops out: every 250 ms before the ring-out is above the floor, scene cuts included", () => {
    for (const c of cases) {
      const { wav } = rendered.get(c.mood)!;
      const window = SR / 4;
      for (let at = 0; at + window <= wav.frames - 2.5 * SR; at += window) {
        const level = dbfs(rms(wav, at, at + window));
        assert.ok(level > -40, `${c.mood}: ${level.toFixed(1)} dBFS at ${(at / SR).toFixed(2)} s`);
      }
    }
  });

  it("ends musically: the last chord decays to silence and the last sample is 0", () => {
    for (const c of cases) {
      const { wav } = rendered.get(c.mood)!;
      const n = wav.frames;
      const average = rms(wav, 0, n);
      const last100 = rms(wav, n - SR / 10, n);
      assert.ok(
        dbfs(last100) < dbfs(average) - 30,
        `${c.mood}: last 100 ms ${dbfs(last100).toFixed(1)} dBFS`,
      );
      // A ring-out, not a cut: the second before the end is still clearly audible, and falling.
      const ringing = rms(wav, n - 2 * SR, n - 1.5 * SR);
      const fading = rms(wav, n - SR, n - 0.5 * SR);
      assert.ok(dbfs(ringing) > dbfs(average) - 15, `${c.mood}: nothing left to ring out`);
      assert.ok(fading < ringing && last100 < fading);
      for (const ch of wav.channelData) assert.ok(Math.abs(ch[n - 1]) < 1e-4 && Math.abs(ch[n - 2]) < 1e-3);
    }
  });

  it("decodes with ffmpeg at a bed-music loudness that rises gently", async (t) => {
    for (const c of cases) {
      const { integrated, momentary } = await loudness(rendered.get(c.mood)!.file);
      t.diagnostic(`${c.mood}: integrated ${integrated} LUFS`);
      assert.ok(integrated > -20 && integrated < -12, `${c.mood}: ${integrated} LUFS`);
      const seconds = c.frames / SR;
      assert.ok(momentary.length >= Math.floor(seconds) - 1, "ffmpeg decoded the whole file");
      // Between the first second and the ring-out no adjacent seconds differ by more than 6 LU.
      const body = momentary.slice(1, Math.floor(seconds) - 3);
      for (let i = 1; i < body.length; i++) {
        assert.ok(Math.abs(body[i] - body[i - 1]) <= 6, `${c.mood}: jump at ${i + 2} s`);
      }
      const half = Math.floor(body.length / 2);
      const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
      assert.ok(mean(body.slice(half)) > mean(body.slice(0, half)), `${c.mood} does not build`);
    }
  });

  it("is deterministic: the same request gives identical bytes", async () => {
    const file = path.join(dir, "again.wav");
    await provider.compose(request("WARM", scenes(3, 4), file));
    assert.ok((await readFile(file)).equals(rendered.get("WARM")!.bytes));
  });

  it("sounds different for different moods", () => {
    const luxury = composeScore({ mood: "LUXURY", segments: scenes(7, 4), sampleRate: SR, seed: 1 });
    const upbeat = composeScore({ mood: "UPBEAT", segments: scenes(7, 4), sampleRate: SR, seed: 1 });
    assert.notEqual(luxury.timeline.bpm, upbeat.timeline.bpm);
    assert.notEqual(luxury.profile.tonic, upbeat.profile.tonic);
    assert.ok(!rendered.get("LUXURY")!.bytes.equals(rendered.get("UPBEAT")!.bytes));
  });

  it("reports progress up to 1 and keeps the event loop responsive", async (t) => {
    const progress: number[] = [];
    let longestGap = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      longestGap = Math.max(longestGap, now - last);
      last = now;
    }, 2);
    try {
      await provider.compose({
        ...request("MODERN", scenes(3, 4), path.join(dir, "progress.wav")),
        onProgress: (f) => progress.push(f),
      });
    } finally {
      clearInterval(timer);
    }
    assert.ok(progress.length > 5);
    for (let i = 1; i < progress.length; i++) assert.ok(progress[i] > progress[i - 1]);
    assert.equal(progress[progress.length - 1], 1);
    t.diagnostic(`longest event-loop stall during a 12 s render: ${longestGap.toFixed(0)} ms`);
    // Generous for a loaded CI box; a render that never yielded would block for the whole second.
    assert.ok(longestGap < 250, `event loop blocked for ${longestGap.toFixed(0)} ms`);
  });

  it("cancels quickly with CANCELLED and leaves no file behind", async (t) => {
    const controller = new AbortController();
    const outFile = path.join(dir, "cancelled.wav");
    let abortedAt = 0;
    const promise = provider.compose({
      ...request("UPBEAT", scenes(7, 4), outFile),
      signal: controller.signal,
      onProgress: (f) => {
        if (f > 0.1 && !abortedAt) {
          abortedAt = performance.now();
          controller.abort();
        }
      },
    });
    await assert.rejects(promise, (error) => isAppError(error) && error.code === "CANCELLED");
    const took = performance.now() - abortedAt;
    t.diagnostic(`rejected ${took.toFixed(1)} ms after abort()`);
    assert.ok(took < 500, "took too long to notice the abort");
    assert.equal(existsSync(outFile), false);
    assert.deepEqual(
      (await readdir(dir)).filter((f) => f.endsWith(".part")),
      [],
    );
  });

  it("rejects an already-aborted signal before doing any work", async () => {
    const outFile = path.join(dir, "never.wav");
    await assert.rejects(
      provider.compose({ ...request("CALM", scenes(2, 4), outFile), signal: AbortSignal.abort() }),
      (error) => isAppError(error) && error.code === "CANCELLED",
    );
    assert.equal(existsSync(outFile), false);
  });

  it("reports an unwritable destination as PROVIDER_FAILED", async () => {
    const outFile = path.join(dir, "missing-directory", "score.wav");
    await assert.rejects(
      provider.compose(request("CALM", scenes(2, 4), outFile)),
      (error) => isAppError(error) && error.code === "PROVIDER_FAILED",
    );
  });

  it("rejects requests it cannot render as BAD_USER_INPUT", async () => {
    const outFile = path.join(dir, "bad.wav");
    const bad = [
      request("CALM", [], outFile),
      request("CALM", [{ sceneType: "LIVING", seconds: -1 }], outFile),
      request("CALM", [{ sceneType: "LIVING", seconds: Number.NaN }], outFile),
      { ...request("CALM", scenes(2, 4), outFile), sampleRate: 0 },
      request("CALM", [{ sceneType: "LIVING", seconds: 10_000 }], outFile),
    ];
    for (const r of bad) {
      await assert.rejects(
        provider.compose(r),
        (error) => isAppError(error) && error.code === "BAD_USER_INPUT",
      );
    }
  });
});
