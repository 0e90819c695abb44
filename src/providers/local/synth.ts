/**
 * DSP building blocks for the embedded score — oscillators, envelopes, filters, effects — and the
 * instrument voices that play the composer's note events. Deterministic by construction: noise
 * comes from a seeded PRNG, so one score always renders to the same samples.
 */

export type InstrumentKind =
  | "pad"
  | "keys"
  | "pluck"
  | "synthPluck"
  | "bell"
  | "lead"
  | "bass"
  | "kick"
  | "hat"
  | "shaker"
  | "clap"
  | "cymbal";

export type BusId = "pad" | "bass" | "arp" | "lead" | "drums";
export const BUS_IDS: readonly BusId[] = ["pad", "bass", "arp", "lead", "drums"];

/** One note as the composer writes it; times in frames from the start of the track. */
export interface NoteEvent {
  kind: InstrumentKind;
  bus: BusId;
  start: number;
  /** Frames the note is held before its release begins. */
  gate: number;
  release: number;
  /** Overrides the instrument's attack, in frames (slow pad swells). */
  attack?: number;
  midi: number;
  velocity: number;
  /** -1 (left) .. 1 (right). */
  pan: number;
  seed: number;
  detuneCents?: number;
}

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

// Freeverb's tunings (for 44.1 kHz), scaled to the render rate; the right channel is offset
// by a few samples to decorrelate the sides.
const COMB_TUNING = [1116, 1188, 1277, 1356, 1422, 1491, 1557, 1617];
const ALLPASS_TUNING = [556, 441, 341, 225];
const STEREO_SPREAD = 23;

interface Comb {
  buf: Float32Array;
  idx: number;
  store: number;
}
interface Allpass {
  buf: Float32Array;
  idx: number;
}

export interface ReverbSettings {
  /** Comb feedback, 0.7–0.95: larger rings longer. */
  roomSize: number;
  /** 0–1: how quickly the highs die in the tail. */
  damping: number;
}

/** Freeverb-lite: eight damped combs in parallel into four allpasses, per channel. */
export class Reverb {
  private readonly combs: [Comb[], Comb[]];
  private readonly allpasses: [Allpass[], Allpass[]];
  private readonly feedback: number;
  private readonly damp: number;
  private scratch = new Float32Array(0);

  constructor(sampleRate: number, settings: ReverbSettings) {
    const scale = sampleRate / 44100;
    const make = (length: number): Float32Array => new Float32Array(Math.max(1, Math.round(length * scale)));
    this.combs = [0, STEREO_SPREAD].map((spread) =>
      COMB_TUNING.map((t) => ({ buf: make(t + spread), idx: 0, store: 0 })),
    ) as [Comb[], Comb[]];
    this.allpasses = [0, STEREO_SPREAD].map((spread) =>
      ALLPASS_TUNING.map((t) => ({ buf: make(t + spread), idx: 0 })),
    ) as [Allpass[], Allpass[]];
    this.feedback = settings.roomSize;
    this.damp = settings.damping;
  }

  /** Overwrites outL/outR with the wet signal of the (mono-summed) input. */
  process(
    inL: Float32Array,
    inR: Float32Array,
    outL: Float32Array,
    outR: Float32Array,
    frames: number,
  ): void {
    if (this.scratch.length < frames) this.scratch = new Float32Array(frames);
    const input = this.scratch;
    for (let n = 0; n < frames; n++) input[n] = (inL[n] + inR[n]) * 0.05;
    this.channel(0, input, outL, frames);
    this.channel(1, input, outR, frames);
  }

  // Comb-major loops (one filter over the whole block at a time) keep the hot loop tiny.
  private channel(ch: 0 | 1, input: Float32Array, out: Float32Array, frames: number): void {
    out.fill(0, 0, frames);
    const fb = this.feedback;
    const d1 = this.damp;
    const d2 = 1 - d1;
    for (const comb of this.combs[ch]) {
      const { buf } = comb;
      let { idx, store } = comb;
      const len = buf.length;
      for (let n = 0; n < frames; n++) {
        const y = buf[idx];
        store = y * d2 + store * d1;
        buf[idx] = input[n] + store * fb;
        if (++idx === len) idx = 0;
        out[n] += y;
      }
      comb.idx = idx;
      comb.store = store;
    }
    for (const ap of this.allpasses[ch]) {
      const { buf } = ap;
      let { idx } = ap;
      const len = buf.length;
      for (let n = 0; n < frames; n++) {
        const delayed = buf[idx];
        const x = out[n];
        buf[idx] = x + delayed * 0.5;
        out[n] = delayed - x;
        if (++idx === len) idx = 0;
      }
      ap.idx = idx;
    }
  }
}

/** Stereo ping-pong echo with a darkening feedback path (each repeat a little duller, like tape). */
export class PingPongDelay {
  private readonly left: Float32Array;
  private readonly right: Float32Array;
  private idx = 0;
  private readonly tone: OnePole;

  constructor(
    sampleRate: number,
    delaySeconds: number,
    private readonly feedback: number,
  ) {
    const length = Math.max(1, Math.round(delaySeconds * sampleRate));
    this.left = new Float32Array(length);
    this.right = new Float32Array(length);
    this.tone = new OnePole(sampleRate, 3500);
  }

  /** Overwrites outL/outR with the echoes of the (mono-summed) input. */
  process(
    inL: Float32Array,
    inR: Float32Array,
    outL: Float32Array,
    outR: Float32Array,
    frames: number,
  ): void {
    const len = this.left.length;
    let idx = this.idx;
    for (let n = 0; n < frames; n++) {
      const dl = this.left[idx];
      const dr = this.right[idx];
      this.left[idx] = (inL[n] + inR[n]) * 0.5 + this.tone.lowpass(dr) * this.feedback;
      this.right[idx] = dl;
      outL[n] = dl;
      outR[n] = dr;
      if (++idx === len) idx = 0;
    }
    this.idx = idx;
  }
}

/** A sounding note: adds its samples into a bus, block after block, until `end`. */
export interface Voice {
  /** Absolute frame at which the voice has fallen silent for good. */
  readonly end: number;
  /** Adds the voice's next `frames` samples into left/right from index `offset`. */
  render(left: Float32Array, right: Float32Array, offset: number, frames: number): void;
}

export function createVoice(event: NoteEvent, sampleRate: number): Voice {
  switch (event.kind) {
    case "pad":
      return new PadVoice(event, sampleRate);
    case "keys":
      return new FmVoice(event, sampleRate, FM_KEYS);
    case "bell":
      return new FmVoice(event, sampleRate, FM_BELL);
    case "pluck":
      return new PluckVoice(event, sampleRate);
    case "synthPluck":
      return new SynthPluckVoice(event, sampleRate);
    case "lead":
      return new LeadVoice(event, sampleRate);
    case "bass":
      return new BassVoice(event, sampleRate);
    case "kick":
      return new KickVoice(event, sampleRate);
    case "hat":
    case "shaker":
    case "clap":
    case "cymbal":
      return new NoiseVoice(event, sampleRate, NOISE_DRUMS[event.kind]);
  }
}

const hz = (midi: number): number => 440 * 2 ** ((midi - 69) / 12);

let scratch = new Float32Array(4096);
function scratchFor(frames: number): Float32Array {
  if (scratch.length < frames) scratch = new Float32Array(frames);
  return scratch;
}

/**
 * A mono instrument: the subclass fills a block of raw signal in its own tight loop, the base
 * applies the note envelope and the pan. One loop per instrument keeps the JIT's hot paths
 * monomorphic — a large part of why a 28 s render costs well under a second of CPU.
 */
abstract class MonoVoice implements Voice {
  readonly end: number;
  protected readonly env: Envelope;
  protected readonly freq: number;
  private readonly gainL: number;
  private readonly gainR: number;

  constructor(
    event: NoteEvent,
    protected readonly sampleRate: number,
    shape: { attack: number; decay: number; sustain: number },
    level: number,
  ) {
    this.env = new Envelope({
      attack: event.attack ?? shape.attack * sampleRate,
      decay: shape.decay * sampleRate,
      sustain: shape.sustain,
      gate: event.gate,
      release: event.release,
    });
    this.end = event.start + this.env.length;
    this.freq = hz(event.midi);
    const [l, r] = panGains(event.pan);
    this.gainL = l * event.velocity * level;
    this.gainR = r * event.velocity * level;
  }

  protected abstract fill(out: Float32Array, frames: number): void;

  render(left: Float32Array, right: Float32Array, offset: number, frames: number): void {
    const buf = scratchFor(frames);
    this.fill(buf, frames);
    const env = this.env;
    const gl = this.gainL;
    const gr = this.gainR;
    for (let n = 0; n < frames; n++) {
      const s = buf[n] * env.next();
      left[offset + n] += s * gl;
      right[offset + n] += s * gr;
    }
  }
}

/**
 * Two detuned band-limited saws, one leaning left and one right (the beating between them is the
 * "chorus" that makes a pad wide and alive), over a sine for body. The pad bus filter darkens it.
 */
class PadVoice implements Voice {
  readonly end: number;
  private readonly env: Envelope;
  private pa: number;
  private pb: number;
  private ps = 0;
  private readonly ia: number;
  private readonly ib: number;
  private readonly is: number;
  private readonly gainL: number;
  private readonly gainR: number;

  constructor(event: NoteEvent, sampleRate: number) {
    this.env = new Envelope({
      attack: event.attack ?? 0.4 * sampleRate,
      decay: 2 * sampleRate,
      sustain: 0.85,
      gate: event.gate,
      release: event.release,
    });
    this.end = event.start + this.env.length;
    const f = hz(event.midi);
    const detune = 2 ** ((event.detuneCents ?? 8) / 1200);
    const rng = createRng(event.seed);
    // Random start phases: stacked voices that all start at phase 0 sound like one buzzy blip.
    this.pa = rng();
    this.pb = rng();
    this.ia = f / detune / sampleRate;
    this.ib = (f * detune) / sampleRate;
    this.is = f / sampleRate;
    const [l, r] = panGains(event.pan);
    this.gainL = l * event.velocity * 0.2;
    this.gainR = r * event.velocity * 0.2;
  }

  render(left: Float32Array, right: Float32Array, offset: number, frames: number): void {
    const { ia, ib, is, env, gainL, gainR } = this;
    let { pa, pb, ps } = this;
    for (let n = 0; n < frames; n++) {
      const e = env.next();
      const a = polyBlepSaw(pa, ia);
      const b = polyBlepSaw(pb, ib);
      const s = 0.6 * sine(ps);
      pa += ia;
      if (pa >= 1) pa -= 1;
      pb += ib;
      if (pb >= 1) pb -= 1;
      ps += is;
      if (ps >= 1) ps -= 1;
      left[offset + n] += (0.7 * a + 0.3 * b + s) * e * gainL;
      right[offset + n] += (0.3 * a + 0.7 * b + s) * e * gainR;
    }
    this.pa = pa;
    this.pb = pb;
    this.ps = ps;
  }
}

interface FmShape {
  ratio: number;
  /** Modulation index at full velocity and its floor; it decays with indexDecay (s). */
  index: number;
  indexFloor: number;
  indexDecay: number;
  /** Amplitude decay time constant at middle C (s); higher notes die sooner, as on a piano. */
  decay: number;
  level: number;
}

/** Ratio 1:1 with a fading index: the bright-then-mellow attack of an electric piano. */
const FM_KEYS: FmShape = { ratio: 1, index: 2.2, indexFloor: 0.25, indexDecay: 0.35, decay: 1.6, level: 0.5 };
/** An inharmonic 3.5 modulator that fades fast: a glassy strike over a pure ring. */
const FM_BELL: FmShape = {
  ratio: 3.5,
  index: 1.4,
  indexFloor: 0.03,
  indexDecay: 0.12,
  decay: 1.5,
  level: 0.6,
};

class FmVoice extends MonoVoice {
  private pc = 0;
  private pm = 0;
  private readonly inc: number;
  private readonly incM: number;
  private index: number;
  private readonly floor: number;
  private readonly indexMul: number;

  constructor(event: NoteEvent, sampleRate: number, shape: FmShape) {
    const decay = shape.decay * 2 ** (-(event.midi - 60) / 24);
    super(event, sampleRate, { attack: 0.003, decay, sustain: 0 }, shape.level);
    this.inc = this.freq / sampleRate;
    this.incM = this.inc * shape.ratio;
    // Index in cycles (radians / 2π) so the table sine can take it directly.
    this.index = ((0.4 + 0.6 * event.velocity) * shape.index) / (2 * Math.PI);
    this.floor = shape.indexFloor / (2 * Math.PI);
    this.indexMul = Math.exp(-1 / (shape.indexDecay * sampleRate));
  }

  protected fill(out: Float32Array, frames: number): void {
    const { inc, incM, floor, indexMul } = this;
    let { pc, pm, index } = this;
    for (let n = 0; n < frames; n++) {
      out[n] = sine(pc + index * sine(pm));
      pc += inc;
      if (pc >= 1) pc -= 1;
      pm += incM;
      if (pm >= 1) pm -= 1;
      index = floor + (index - floor) * indexMul;
    }
    this.pc = pc;
    this.pm = pm;
    this.index = index;
  }
}

/** Karplus–Strong: a burst of soft noise circulating in a damped delay line — a nylon-ish string. */
class PluckVoice extends MonoVoice {
  private readonly line: Float32Array;
  private idx = 0;
  private prev = 0;
  private apX = 0;
  private apY = 0;
  private readonly c: number;
  private readonly loss: number;

  constructor(event: NoteEvent, sampleRate: number) {
    super(event, sampleRate, { attack: 0.002, decay: 0, sustain: 1 }, 0.85);
    // The two-point average adds half a sample of delay; a first-order allpass tunes the fraction.
    const period = sampleRate / this.freq;
    let length = Math.floor(period - 0.5);
    let fraction = period - 0.5 - length;
    if (fraction < 0.1) {
      length -= 1;
      fraction += 1;
    }
    this.c = (1 - fraction) / (1 + fraction);
    this.line = new Float32Array(length);
    const rng = createRng(event.seed);
    // Twice low-passed noise: a fingertip, not a pick. Harder playing lets more highs through.
    const soft = 0.1 + 0.2 * event.velocity;
    let lp1 = 0;
    let lp2 = 0;
    const burst = new Float32Array(length);
    for (let i = 0; i < length; i++) {
      lp1 += soft * (rng() * 2 - 1 - lp1);
      lp2 += soft * (lp1 - lp2);
      burst[i] = lp2;
    }
    // Plucking a fifth of the way along the string notches out the harmonics that node kills.
    const pick = Math.max(1, Math.round(length * 0.2));
    let mean = 0;
    for (let i = 0; i < length; i++) {
      this.line[i] = burst[i] - (i >= pick ? burst[i - pick] : 0);
      mean += this.line[i] / length;
    }
    // Normalised by RMS, not peak, so every note has the same energy whatever its noise draw.
    let power = 1e-12;
    for (let i = 0; i < length; i++) {
      this.line[i] -= mean;
      power += this.line[i] * this.line[i];
    }
    const norm = 0.5 / Math.sqrt(power / length);
    for (let i = 0; i < length; i++) this.line[i] *= norm;
    const t60 = 2.8 * 2 ** (-(event.midi - 52) / 24);
    this.loss = 10 ** (-3 / (t60 * this.freq));
  }

  protected fill(out: Float32Array, frames: number): void {
    const { line, c, loss } = this;
    const len = line.length;
    let { idx, prev, apX, apY } = this;
    for (let n = 0; n < frames; n++) {
      const cur = line[idx];
      const avg = 0.5 * (cur + prev) * loss;
      prev = cur;
      const ap = c * avg + apX - c * apY;
      apX = avg;
      apY = ap;
      line[idx] = ap;
      if (++idx === len) idx = 0;
      out[n] = cur;
    }
    this.idx = idx;
    this.prev = prev;
    this.apX = apX;
    this.apY = apY;
  }
}

/** Detuned saws through a low-pass whose cutoff snaps shut: the classic soft "pluck" of modern pop. */
class SynthPluckVoice extends MonoVoice {
  private pa: number;
  private pb: number;
  private readonly ia: number;
  private readonly ib: number;
  private readonly filter: StateVariableFilter;
  private sweep: number;
  private readonly sweepMul: number;
  private t = 0;

  constructor(event: NoteEvent, sampleRate: number) {
    super(event, sampleRate, { attack: 0.002, decay: 0.3, sustain: 0.12 }, 1.6);
    const rng = createRng(event.seed);
    this.pa = rng();
    this.pb = rng();
    const detune = 2 ** (6 / 1200);
    this.ia = this.freq / detune / sampleRate;
    this.ib = (this.freq * detune) / sampleRate;
    this.filter = new StateVariableFilter(sampleRate, this.freq * 4, 0.8);
    this.sweep = 3 + 9 * event.velocity;
    // The cutoff is updated every 16 samples; the sweep decays with a ~80 ms time constant.
    this.sweepMul = Math.exp(-16 / (0.08 * sampleRate));
  }

  protected fill(out: Float32Array, frames: number): void {
    const { ia, ib, filter } = this;
    let { pa, pb, t, sweep } = this;
    for (let n = 0; n < frames; n++) {
      if ((t & 15) === 0) {
        filter.set(this.freq * (1.2 + sweep), 0.8);
        sweep *= this.sweepMul;
      }
      t++;
      const x = 0.5 * (polyBlepSaw(pa, ia) + polyBlepSaw(pb, ib));
      pa += ia;
      if (pa >= 1) pa -= 1;
      pb += ib;
      if (pb >= 1) pb -= 1;
      out[n] = filter.lowpass(x);
    }
    this.pa = pa;
    this.pb = pb;
    this.t = t;
    this.sweep = sweep;
  }
}

/** A flute-ish lead: three soft harmonics, vibrato that fades in, a breath of noise. */
class LeadVoice extends MonoVoice {
  private p = 0;
  private vib = 0;
  private t = 0;
  private readonly inc: number;
  private readonly vibInc: number;
  private readonly vibRamp: number;
  private readonly rng: () => number;
  private readonly breath: StateVariableFilter;

  constructor(event: NoteEvent, sampleRate: number) {
    super(event, sampleRate, { attack: 0.06, decay: 0.8, sustain: 0.75 }, 0.65);
    this.inc = this.freq / sampleRate;
    this.vibInc = 5.2 / sampleRate;
    this.vibRamp = 1 / (0.35 * sampleRate);
    this.rng = createRng(event.seed);
    this.breath = new StateVariableFilter(sampleRate, Math.min(this.freq * 3, 9000), 2);
  }

  protected fill(out: Float32Array, frames: number): void {
    const { inc, vibInc, vibRamp, rng, breath } = this;
    let { p, vib, t } = this;
    for (let n = 0; n < frames; n++) {
      const depth = 0.0035 * Math.min(1, t * vibRamp);
      t++;
      p += inc * (1 + depth * sine(vib));
      if (p >= 1) p -= 1;
      vib += vibInc;
      if (vib >= 1) vib -= 1;
      out[n] = sine(p) + 0.28 * sine(2 * p) + 0.1 * sine(3 * p) + 0.15 * breath.bandpass(rng() * 2 - 1);
    }
    this.p = p;
    this.vib = vib;
    this.t = t;
  }
}

/** Sine bass with two quiet harmonics, so it still reads on laptop speakers that can't do 60 Hz. */
class BassVoice extends MonoVoice {
  private p = 0;
  private readonly inc: number;

  constructor(event: NoteEvent, sampleRate: number) {
    super(event, sampleRate, { attack: 0.006, decay: 0.5, sustain: 0.7 }, 0.6);
    this.inc = this.freq / sampleRate;
  }

  protected fill(out: Float32Array, frames: number): void {
    const inc = this.inc;
    let p = this.p;
    for (let n = 0; n < frames; n++) {
      out[n] = sine(p) + 0.3 * sine(2 * p) + 0.1 * sine(3 * p);
      p += inc;
      if (p >= 1) p -= 1;
    }
    this.p = p;
  }
}

/** A sine whose pitch falls from ~155 Hz to 45 Hz in a few tens of milliseconds: a soft kick drum. */
class KickVoice extends MonoVoice {
  private p = 0;
  private sweep = 1;
  private readonly sweepMul: number;

  constructor(event: NoteEvent, sampleRate: number) {
    super(event, sampleRate, { attack: 0.001, decay: 0.16, sustain: 0 }, 0.9);
    this.sweepMul = Math.exp(-1 / (0.035 * sampleRate));
  }

  protected fill(out: Float32Array, frames: number): void {
    const sr = this.sampleRate;
    let { p, sweep } = this;
    for (let n = 0; n < frames; n++) {
      out[n] = sine(p);
      p += (45 + 110 * sweep) / sr;
      if (p >= 1) p -= 1;
      sweep *= this.sweepMul;
    }
    this.p = p;
    this.sweep = sweep;
  }
}

interface NoiseDrum {
  mode: "high" | "band";
  hz: number;
  q: number;
  attack: number;
  decay: number;
  level: number;
  /** Hand claps are three quick slaps before the tail. */
  claps?: boolean;
}

const NOISE_DRUMS: Record<"hat" | "shaker" | "clap" | "cymbal", NoiseDrum> = {
  hat: { mode: "high", hz: 7500, q: 0.7, attack: 0.0005, decay: 0.03, level: 0.35 },
  shaker: { mode: "band", hz: 6000, q: 1.4, attack: 0.008, decay: 0.05, level: 0.7 },
  clap: { mode: "band", hz: 1400, q: 1.2, attack: 0.0005, decay: 0, level: 0.9, claps: true },
  cymbal: { mode: "high", hz: 5000, q: 0.7, attack: 0.002, decay: 0.6, level: 0.25 },
};

/** Filtered seeded noise: hats, shakers, claps and a soft cymbal. */
class NoiseVoice extends MonoVoice {
  private readonly rng: () => number;
  private readonly filter: StateVariableFilter;
  private t = 0;

  constructor(
    event: NoteEvent,
    sampleRate: number,
    private readonly drum: NoiseDrum,
  ) {
    super(
      event,
      sampleRate,
      { attack: drum.attack, decay: drum.decay, sustain: drum.decay > 0 ? 0 : 1 },
      drum.level,
    );
    this.rng = createRng(event.seed);
    this.filter = new StateVariableFilter(sampleRate, drum.hz, drum.q);
  }

  protected fill(out: Float32Array, frames: number): void {
    const { rng, filter, drum } = this;
    const ms = this.sampleRate / 1000;
    let t = this.t;
    for (let n = 0; n < frames; n++) {
      const x = rng() * 2 - 1;
      let y = drum.mode === "high" ? filter.highpass(x) : filter.bandpass(x);
      if (drum.claps) {
        const tm = t / ms;
        // Three slaps 10 ms apart (each 0.5 ms up, 5 ms down), then an 80 ms tail.
        let g = 0.8 * Math.exp(-Math.max(0, tm - 20) / 80);
        for (let k = 0; k < 3; k++) {
          const d = tm - 10 * k;
          if (d >= 0) g += d < 0.5 ? d * 2 : Math.exp(-(d - 0.5) / 5);
        }
        y *= g;
      }
      out[n] = y;
      t++;
    }
    this.t = t;
  }
}
