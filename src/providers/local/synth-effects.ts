/**
 * The score's shared effects: a Freeverb-style room and a ping-pong echo. Both mono-sum their
 * input and write only the wet signal; the mixer decides how much of it to use.
 */
import { OnePole } from "./synth-dsp.js";

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
