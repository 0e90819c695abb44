/**
 * DSP building blocks for the embedded score: a seeded PRNG, oscillators, envelopes, filters,
 * panning and the limiter. Deterministic by construction: noise comes from the seeded PRNG, so
 * one score always renders to the same samples.
 */

/** mulberry32: tiny, fast, and good enough for musical choices and noise. */
export function createRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a, 32-bit: a stable seed from a string. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const SINE_SIZE = 4096;
const SINE_TABLE = (() => {
  // Two guard points so a phase that rounds up to exactly 1.0 still interpolates.
  const table = new Float64Array(SINE_SIZE + 2);
  for (let i = 0; i < table.length; i++) table[i] = Math.sin((2 * Math.PI * i) / SINE_SIZE);
  return table;
})();

/** sin(2π·phase) from a table with linear interpolation (error < 1e-6, several times faster than Math.sin). */
export function sine(phase: number): number {
  const p = (phase - Math.floor(phase)) * SINE_SIZE;
  const i = p | 0;
  const a = SINE_TABLE[i];
  return a + (SINE_TABLE[i + 1] - a) * (p - i);
}

/** Polynomial band-limited step correction; t = phase in [0,1), dt = phase increment per sample. */
export function polyBlep(t: number, dt: number): number {
  if (t < dt) {
    const x = t / dt;
    return x + x - x * x - 1;
  }
  if (t > 1 - dt) {
    const x = (t - 1) / dt;
    return x * x + x + x + 1;
  }
  return 0;
}

/** A sawtooth with the discontinuity smoothed, so high notes don't alias into harsh whistles. */
export function polyBlepSaw(phase: number, dt: number): number {
  return 2 * phase - 1 - polyBlep(phase, dt);
}

/** ADSR in frames; decay is a time constant (exponential approach to sustain). */
export interface EnvelopeSpec {
  attack: number;
  decay: number;
  sustain: number;
  gate: number;
  release: number;
}

/**
 * Linear attack from exactly 0, exponential decay, and a cubic release that lands on exactly 0
 * at gate + release — so every note starts and ends without a step, whatever it is layered on.
 */
export class Envelope {
  private index = 0;
  private level = 0;
  private releaseFrom = 0;
  private readonly attack: number;
  private readonly gate: number;
  private readonly release: number;
  private readonly decayMul: number;
  readonly length: number;

  constructor(private readonly spec: EnvelopeSpec) {
    this.attack = Math.max(1, Math.round(spec.attack));
    this.gate = Math.max(1, Math.round(spec.gate));
    this.release = Math.max(1, Math.round(spec.release));
    this.decayMul = spec.decay > 0 ? Math.exp(-1 / spec.decay) : 1;
    this.length = this.gate + this.release;
  }

  next(): number {
    const i = this.index++;
    if (i < this.gate) {
      if (i < this.attack) this.level = i / this.attack;
      else if (i === this.attack) this.level = 1;
      else this.level = this.spec.sustain + (this.level - this.spec.sustain) * this.decayMul;
      if (i === this.gate - 1) this.releaseFrom = this.level;
      return this.level;
    }
    const x = (i - this.gate + 1) / this.release;
    if (x >= 1) return 0;
    const r = 1 - x;
    return this.releaseFrom * r * r * r;
  }
}

/** Renders a whole envelope (for tests and plots). */
export function envelopeLevels(spec: EnvelopeSpec, frames: number): Float32Array {
  const env = new Envelope(spec);
  const out = new Float32Array(frames);
  for (let i = 0; i < frames; i++) out[i] = env.next();
  return out;
}

/** Topology-preserving state-variable filter (Zavalishin): stable while its cutoff moves. */
export class StateVariableFilter {
  private ic1 = 0;
  private ic2 = 0;
  private a1 = 1;
  private a2 = 0;
  private a3 = 0;
  private k = Math.SQRT2;
  private band = 0;

  constructor(
    private readonly sampleRate: number,
    cutoffHz = 1000,
    q = Math.SQRT1_2,
  ) {
    this.set(cutoffHz, q);
  }

  set(cutoffHz: number, q = Math.SQRT1_2): void {
    const fc = Math.min(Math.max(cutoffHz, 10), this.sampleRate * 0.45);
    const g = Math.tan((Math.PI * fc) / this.sampleRate);
    this.k = 1 / q;
    this.a1 = 1 / (1 + g * (g + this.k));
    this.a2 = g * this.a1;
    this.a3 = g * this.a2;
  }

  private tick(v0: number): number {
    const v3 = v0 - this.ic2;
    const v1 = this.a1 * this.ic1 + this.a2 * v3;
    const v2 = this.ic2 + this.a2 * this.ic1 + this.a3 * v3;
    this.ic1 = 2 * v1 - this.ic1;
    this.ic2 = 2 * v2 - this.ic2;
    this.band = v1;
    return v2;
  }

  lowpass(x: number): number {
    return this.tick(x);
  }

  bandpass(x: number): number {
    this.tick(x);
    return this.band;
  }

  highpass(x: number): number {
    const low = this.tick(x);
    return x - this.k * this.band - low;
  }
}

/** One-pole low-pass; highpass() is the input minus that (a gentle 6 dB/oct slope). */
export class OnePole {
  private y = 0;
  private readonly a: number;

  constructor(sampleRate: number, cutoffHz: number) {
    this.a = 1 - Math.exp((-2 * Math.PI * cutoffHz) / sampleRate);
  }

  lowpass(x: number): number {
    this.y += this.a * (x - this.y);
    return this.y;
  }

  highpass(x: number): number {
    return x - this.lowpass(x);
  }
}

/** Equal-power pan: centre is −3 dB on each side, so moving a sound doesn't change its loudness. */
export function panGains(pan: number): [number, number] {
  const angle = ((Math.max(-1, Math.min(1, pan)) + 1) * Math.PI) / 4;
  return [Math.cos(angle), Math.sin(angle)];
}

/**
 * Transparent below the knee, then a tanh shoulder that approaches the ceiling: the output peak
 * never exceeds `ceiling`, and there is no hard-clip corner to splatter harmonics.
 */
export function softLimit(x: number, ceiling: number, knee = 0.7 * ceiling): number {
  const a = Math.abs(x);
  if (a <= knee) return x;
  const room = ceiling - knee;
  const y = knee + room * Math.tanh((a - knee) / room);
  return x < 0 ? -y : y;
}
