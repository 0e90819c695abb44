import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MUSIC_MOODS, type MusicMood, SCENE_TYPES } from "../../src/domain/vocabulary.js";
import { moodProfile } from "../../src/providers/local/music-theory.js";
import { composeScore, scoreSeed } from "../../src/providers/local/score-composer.js";
import { pumpGain, scoreWav } from "../../src/providers/local/score-renderer.js";
import { intensityAt, LAYERS, planTimeline } from "../../src/providers/local/score-timeline.js";
import { type DecodedWav, encodeWav, readWav, wavHeader } from "../../src/providers/local/wav.js";
import { type MusicSegment } from "../../src/providers/types.js";

const SR = 48000;

const scenes = (count: number, seconds: number): MusicSegment[] =>
  Array.from({ length: count }, (_, i) => ({ sceneType: SCENE_TYPES[i % SCENE_TYPES.length], seconds }));

const dbfs = (x: number): number => 20 * Math.log10(Math.max(x, 1e-12));

function rms(wav: DecodedWav, from: number, to: number): number {
  const [l, r] = wav.channelData;
  let sum = 0;
  for (let i = from; i < to; i++) sum += (l[i] * l[i] + r[i] * r[i]) / 2;
  return Math.sqrt(sum / Math.max(1, to - from));
}

/** The score renderer's whole output in memory: the bytes the provider writes to its file. */
function renderWav(mood: MusicMood, segments: MusicSegment[]): Buffer {
  const chunks = scoreWav({ mood, segments, sampleRate: SR, sampleFormat: "pcm24", blockFrames: 1024 });
  return Buffer.concat(Array.from(chunks, (chunk) => chunk.bytes));
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

  it("puts every cut between scenes on a beat, near the mood's tempo (read from the score's onsets)", () => {
    for (const seconds of [3, 3.5, 4, 4.5, 5, 6]) {
      for (const mood of MUSIC_MOODS) {
        const score = composeScore({ mood, segments: scenes(7, seconds), sampleRate: SR, seed: 4 });
        const { timeline, sceneStarts } = score;
        const nominal = moodProfile(mood).bpm;
        const what = `${mood}, ${seconds} s scenes at ${timeline.bpm.toFixed(1)} bpm`;
        assert.ok(Math.abs(Math.log(timeline.bpm / nominal)) <= Math.log(1.15) + 1e-12, what);
        assert.ok(
          timeline.tailSeconds >= 1 && timeline.tailSeconds <= 3.8,
          `${what}: tail ${timeline.tailSeconds}`,
        );
        assert.equal(timeline.cadenceBeat % 2, 0);
        // The beat grid as the music plays it: the rhythm section (pad, bass, kick) starts on the
        // sixteenths of timeline.beatSeconds counted from 0...
        const sixteenth = (timeline.beatSeconds * SR) / 4;
        const rhythm = score.events.filter((e) => ["pad", "bass", "kick"].includes(e.kind));
        assert.ok(rhythm.length > 0, what);
        for (const { start, kind } of rhythm) {
          const off = Math.abs(start - Math.round(start / sixteenth) * sixteenth);
          assert.ok(off <= 1, `${what}: a ${kind} starts ${off} samples off the grid`);
        }
        // ...and each cut is a whole number of those beats from the start
        for (const cut of sceneStarts.slice(1)) {
          const beats = cut / timeline.beatSeconds;
          assert.ok(Math.abs(beats - Math.round(beats)) < 1e-9, `${what}: cut at ${cut} s is beat ${beats}`);
        }
        // where notes do start (all but the sparsest moods have an onset at most cuts)
        const withOnset = sceneStarts
          .slice(1)
          .filter((cut) => score.events.some((e) => Math.abs(e.start - Math.round(cut * SR)) <= 0.005 * SR));
        assert.ok(withOnset.length >= 3, `${what}: notes start at ${withOnset.length} of 6 cuts`);
      }
    }
  });

  it("keeps the free tempo plan when the scenes cannot sit on a beat near the mood's tempo", () => {
    const irregular = [4.1, 3.7, 4.3].map((seconds) => ({ ...scenes(1, seconds)[0]! }));
    const score = composeScore({ mood: "LUXURY", segments: irregular, sampleRate: SR, seed: 5 });
    const free = planTimeline(12.1, moodProfile("LUXURY").bpm);
    assert.equal(score.timeline.bpm, free.bpm);
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

describe("score renderer", () => {
  const cases: { mood: MusicMood; segments: MusicSegment[]; frames: number }[] = [
    { mood: "LUXURY", segments: scenes(7, 4), frames: 28 * SR },
    { mood: "UPBEAT", segments: scenes(7, 4), frames: 28 * SR },
    { mood: "MODERN", segments: scenes(5, 3.5), frames: 17.5 * SR },
    { mood: "WARM", segments: scenes(3, 4), frames: 12 * SR },
    { mood: "CALM", segments: scenes(5, 3.5), frames: 17.5 * SR },
  ];
  const rendered = new Map<MusicMood, { bytes: Buffer; wav: DecodedWav }>();
  for (const c of cases) {
    const bytes = renderWav(c.mood, c.segments);
    rendered.set(c.mood, { bytes, wav: readWav(bytes) });
  }

  it("renders exactly sum(seconds) of 48 kHz stereo, header first, progress up to 1", () => {
    for (const c of cases) {
      const { wav } = rendered.get(c.mood)!;
      assert.equal(wav.frames, c.frames, c.mood);
      assert.equal(wav.channels, 2);
      assert.equal(wav.sampleRate, SR);
    }
    const chunks = [
      ...scoreWav({
        mood: "WARM",
        segments: scenes(3, 4),
        sampleRate: SR,
        sampleFormat: "pcm24",
        blockFrames: 1024,
      }),
    ];
    assert.equal(chunks[0]!.bytes.length, 44);
    assert.equal(chunks[0]!.progress, 0);
    for (let i = 1; i < chunks.length; i++) assert.ok(chunks[i]!.progress > chunks[i - 1]!.progress);
    assert.equal(chunks.at(-1)!.progress, 1);
    assert.equal(chunks.at(-1)!.frames, 12 * SR);
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

  it("is deterministic: the same request gives identical bytes", () => {
    assert.ok(renderWav("WARM", scenes(3, 4)).equals(rendered.get("WARM")!.bytes));
  });

  it("sounds different for different moods", () => {
    const luxury = composeScore({ mood: "LUXURY", segments: scenes(7, 4), sampleRate: SR, seed: 1 });
    const upbeat = composeScore({ mood: "UPBEAT", segments: scenes(7, 4), sampleRate: SR, seed: 1 });
    assert.notEqual(luxury.timeline.bpm, upbeat.timeline.bpm);
    assert.notEqual(luxury.profile.tonic, upbeat.profile.tonic);
    assert.ok(!rendered.get("LUXURY")!.bytes.equals(rendered.get("UPBEAT")!.bytes));
  });
});
