import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { InstrumentKind, NoteEvent } from "../../src/providers/local/note-event.js";
import { createVoice } from "../../src/providers/local/synth.js";
import {
  createRng,
  Envelope,
  envelopeLevels,
  hashString,
  OnePole,
  panGains,
  polyBlepSaw,
  StateVariableFilter,
  sine,
  softLimit,
} from "../../src/providers/local/synth-dsp.js";
import { PingPongDelay, Reverb } from "../../src/providers/local/synth-effects.js";

const SR = 48000;

function rms(x: Float32Array, from = 0, to = x.length): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += x[i] * x[i];
  return Math.sqrt(sum / Math.max(1, to - from));
}

function sineWave(hz: number, frames: number): Float32Array {
  const out = new Float32Array(frames);
  for (let i = 0; i < frames; i++) out[i] = Math.sin((2 * Math.PI * hz * i) / SR);
  return out;
}

describe("createRng / hashString", () => {
  it("is deterministic, in [0, 1), and seed-dependent", () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const xs = Array.from({ length: 1000 }, () => a());
    assert.deepEqual(
      xs,
      Array.from({ length: 1000 }, () => b()),
    );
    assert.notDeepEqual(
      xs.slice(0, 10),
      Array.from({ length: 10 }, () => c()),
    );
    assert.ok(xs.every((x) => x >= 0 && x < 1));
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    assert.ok(Math.abs(mean - 0.5) < 0.05);
  });

  it("hashes strings stably", () => {
    assert.equal(hashString("LUXURY"), hashString("LUXURY"));
    assert.notEqual(hashString("LUXURY"), hashString("UPBEAT"));
  });
});

describe("oscillators", () => {
  it("table sine matches Math.sin", () => {
    for (let i = 0; i < 10000; i++) {
      const phase = i * 0.01234 - 20;
      assert.ok(Math.abs(sine(phase) - Math.sin(2 * Math.PI * phase)) < 1e-5);
    }
    assert.ok(Number.isFinite(sine(1 - 1e-17)));
    assert.ok(Number.isFinite(sine(-1e-17)));
  });

  it("polyBLEP saw is bounded, centred, and softer at the wrap than a naive saw", () => {
    const dt = 3000 / SR;
    let phase = 0;
    let sum = 0;
    let maxStep = 0;
    let previous = polyBlepSaw(0, dt);
    const frames = 48000;
    for (let i = 0; i < frames; i++) {
      const x = polyBlepSaw(phase, dt);
      assert.ok(Math.abs(x) <= 1.01);
      sum += x;
      if (i > 0) maxStep = Math.max(maxStep, Math.abs(x - previous));
      previous = x;
      phase += dt;
      if (phase >= 1) phase -= 1;
    }
    assert.ok(Math.abs(sum / frames) < 0.01);
    // A naive saw drops by 2 at every wrap.
    assert.ok(maxStep < 1.5, `max step ${maxStep}`);
  });
});

describe("Envelope", () => {
  const spec = { attack: 480, decay: 2400, sustain: 0.6, gate: 9600, release: 4800 };

  it("starts at exactly 0, peaks at 1, settles to sustain and ends at exactly 0", () => {
    const env = envelopeLevels(spec, 9600 + 4800 + 10);
    assert.equal(env[0], 0);
    assert.equal(env[480], 1);
    assert.ok(Math.abs(env[9599] - 0.6) < 0.01);
    assert.equal(env[9600 + 4800 - 1], 0);
    assert.equal(env[9600 + 4800 + 5], 0);
    assert.equal(new Envelope(spec).length, 14400);
  });

  it("never jumps (no clicks) and the release only falls", () => {
    const env = envelopeLevels(spec, 14400);
    for (let i = 1; i < env.length; i++) {
      assert.ok(Math.abs(env[i] - env[i - 1]) <= 1 / 480 + 1e-6, `step at ${i}`);
      if (i > 9600) assert.ok(env[i] <= env[i - 1]);
    }
  });

  it("releases from wherever a short note got to", () => {
    const env = envelopeLevels({ ...spec, gate: 100 }, 100 + 4800);
    assert.ok(env[99] < 0.25);
    assert.equal(env[4899], 0);
  });
});

describe("filters", () => {
  it("state-variable low-pass passes the lows and cuts the highs", () => {
    const gainAt = (hz: number): number => {
      const f = new StateVariableFilter(SR, 1000);
      const x = sineWave(hz, 9600);
      const y = x.map((v) => f.lowpass(v));
      return rms(y, 4800) / rms(x, 4800);
    };
    assert.ok(gainAt(100) > 0.95);
    assert.ok(gainAt(10000) < 0.02);
  });

  it("state-variable high-pass does the opposite", () => {
    const f = new StateVariableFilter(SR, 5000);
    const y = sineWave(200, 9600).map((v) => f.highpass(v));
    assert.ok(rms(y, 4800) < 0.01);
  });

  it("one-pole high-pass removes DC", () => {
    const f = new OnePole(SR, 25);
    let y = 0;
    for (let i = 0; i < SR; i++) y = f.highpass(0.5);
    assert.ok(Math.abs(y) < 1e-3);
  });
});

describe("mixing helpers", () => {
  it("pans with equal power", () => {
    for (const pan of [-1, -0.5, 0, 0.3, 1]) {
      const [l, r] = panGains(pan);
      assert.ok(Math.abs(l * l + r * r - 1) < 1e-9);
    }
    const [l, r] = panGains(0);
    assert.ok(Math.abs(l - r) < 1e-12);
    assert.ok(panGains(-1)[1] < 1e-12);
  });

  it("soft limiter is transparent below the knee and never exceeds the ceiling", () => {
    const ceiling = 10 ** (-1.2 / 20);
    assert.equal(softLimit(0.3, ceiling), 0.3);
    assert.equal(softLimit(-0.3, ceiling), -0.3);
    let previous = Number.NEGATIVE_INFINITY;
    for (let x = -10; x <= 10; x += 0.001) {
      const y = softLimit(x, ceiling);
      assert.ok(Math.abs(y) <= ceiling);
      assert.ok(y >= previous);
      previous = y;
    }
  });
});

describe("effects", () => {
  it("reverb turns an impulse into a decaying, finite tail on both sides", () => {
    const reverb = new Reverb(SR, { roomSize: 0.85, damping: 0.4 });
    const frames = 3 * SR;
    const inL = new Float32Array(frames);
    const inR = new Float32Array(frames);
    inL[0] = 1;
    inR[0] = 1;
    const outL = new Float32Array(frames);
    const outR = new Float32Array(frames);
    for (let at = 0; at < frames; at += 1024) {
      const n = Math.min(1024, frames - at);
      const l = outL.subarray(at, at + n);
      const r = outR.subarray(at, at + n);
      reverb.process(inL.subarray(at), inR.subarray(at), l, r, n);
    }
    const early = rms(outL, 0, SR / 2);
    const late = rms(outL, 2 * SR, 3 * SR);
    assert.ok(early > 0);
    assert.ok(late < early / 10, `early ${early} late ${late}`);
    assert.ok(outL.every(Number.isFinite) && outR.every(Number.isFinite));
    assert.notDeepEqual(outL.subarray(0, 5000), outR.subarray(0, 5000));
  });

  it("ping-pong delay echoes left, then right, each quieter", () => {
    const delay = new PingPongDelay(SR, 0.1, 0.5);
    const frames = SR;
    const inL = new Float32Array(frames);
    inL[0] = 1;
    const silent = new Float32Array(frames);
    const outL = new Float32Array(frames);
    const outR = new Float32Array(frames);
    delay.process(inL, silent, outL, outR, frames);
    assert.ok(Math.abs(outL[4800] - 0.5) < 1e-6);
    assert.ok(Math.abs(outR[9600] - 0.5) < 1e-6);
    assert.ok(Math.abs(outL[14400]) < 0.5 && Math.abs(outL[14400]) > 0);
  });
});

describe("voices", () => {
  const KINDS: InstrumentKind[] = [
    "pad",
    "keys",
    "pluck",
    "synthPluck",
    "bell",
    "lead",
    "bass",
    "kick",
    "hat",
    "shaker",
    "clap",
    "cymbal",
  ];

  for (const kind of KINDS) {
    it(`${kind} starts and ends silent, and sounds in between`, () => {
      const event: NoteEvent = {
        kind,
        bus: "arp",
        start: 1000,
        gate: Math.round(0.3 * SR),
        release: Math.round(0.2 * SR),
        midi: kind === "bass" ? 40 : 64,
        velocity: 0.8,
        pan: 0.2,
        seed: 7,
      };
      const voice = createVoice(event, SR);
      assert.equal(voice.end, 1000 + Math.round(0.5 * SR));
      const frames = voice.end - event.start;
      const left = new Float32Array(frames + 100);
      const right = new Float32Array(frames + 100);
      // Rendered in uneven blocks, as the renderer does.
      for (let at = 0; at < frames; at += 777) voice.render(left, right, at, Math.min(777, frames - at));
      assert.ok(left.every(Number.isFinite) && right.every(Number.isFinite));
      assert.ok(Math.abs(left[0]) < 1e-3 && Math.abs(right[0]) < 1e-3, `${kind} starts with a click`);
      assert.ok(
        Math.abs(left[frames - 1]) < 1e-4 && Math.abs(right[frames - 1]) < 1e-4,
        `${kind} ends with a click`,
      );
      assert.equal(left[frames], 0);
      assert.ok(rms(left) > 1e-3, `${kind} is silent`);
      assert.ok(rms(right) > rms(left) * 0.8, "panned right of centre");
    });
  }

  it("is deterministic for a seed (noise-based instruments included)", () => {
    const render = (seed: number): Float32Array => {
      const voice = createVoice(
        {
          kind: "pluck",
          bus: "arp",
          start: 0,
          gate: 4800,
          release: 4800,
          midi: 55,
          velocity: 0.7,
          pan: 0,
          seed,
        },
        SR,
      );
      const l = new Float32Array(9600);
      const r = new Float32Array(9600);
      voice.render(l, r, 0, 9600);
      return l;
    };
    assert.deepEqual(render(1), render(1));
    assert.notDeepEqual(render(1), render(2));
  });

  it("plays a pluck at the requested pitch", () => {
    const voice = createVoice(
      {
        kind: "pluck",
        bus: "arp",
        start: 0,
        gate: SR,
        release: 480,
        midi: 57,
        velocity: 0.7,
        pan: 0,
        seed: 3,
      },
      SR,
    );
    const l = new Float32Array(SR);
    voice.render(l, new Float32Array(SR), 0, SR);
    // The autocorrelation peak over 0.2–0.5 s sits at one period: 48000 / 220 ≈ 218 samples.
    let bestLag = 0;
    let best = Number.NEGATIVE_INFINITY;
    for (let lag = 120; lag <= 400; lag++) {
      let sum = 0;
      for (let i = 0.2 * SR; i < 0.5 * SR; i++) sum += l[i] * l[i + lag];
      if (sum > best) {
        best = sum;
        bestLag = lag;
      }
    }
    assert.ok(Math.abs(bestLag - SR / 220) <= 1.5, `period ${bestLag} samples`);
  });
});
