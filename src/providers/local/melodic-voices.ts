/**
 * The pitched instruments of the embedded score: a chorused pad, FM keys and bells, a plucked
 * string, a filtered synth pluck, a breathy lead and a sine bass.
 */
import { hz, MonoVoice, type Voice } from "./mono-voice.js";
import type { NoteEvent } from "./note-event.js";
import { createRng, Envelope, panGains, polyBlepSaw, StateVariableFilter, sine } from "./synth-dsp.js";

/**
 * Two detuned band-limited saws, one leaning left and one right (the beating between them is the
 * "chorus" that makes a pad wide and alive), over a sine for body. The pad bus filter darkens it.
 */
export class PadVoice implements Voice {
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

export interface FmShape {
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
export const FM_KEYS: FmShape = {
  ratio: 1,
  index: 2.2,
  indexFloor: 0.25,
  indexDecay: 0.35,
  decay: 1.6,
  level: 0.5,
};
/** An inharmonic 3.5 modulator that fades fast: a glassy strike over a pure ring. */
export const FM_BELL: FmShape = {
  ratio: 3.5,
  index: 1.4,
  indexFloor: 0.03,
  indexDecay: 0.12,
  decay: 1.5,
  level: 0.6,
};

export class FmVoice extends MonoVoice {
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
export class PluckVoice extends MonoVoice {
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
export class SynthPluckVoice extends MonoVoice {
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
export class LeadVoice extends MonoVoice {
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
export class BassVoice extends MonoVoice {
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
