/**
 * The light percussion of the embedded score: a pitch-swept sine kick and filtered seeded noise
 * for hats, shakers, claps and a soft cymbal.
 */
import { MonoVoice } from "./mono-voice.js";
import type { NoteEvent } from "./note-event.js";
import { createRng, StateVariableFilter, sine } from "./synth-dsp.js";

/** A sine whose pitch falls from ~155 Hz to 45 Hz in a few tens of milliseconds: a soft kick drum. */
export class KickVoice extends MonoVoice {
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

export interface NoiseDrum {
  mode: "high" | "band";
  hz: number;
  q: number;
  attack: number;
  decay: number;
  level: number;
  /** Hand claps are three quick slaps before the tail. */
  claps?: boolean;
}

export const NOISE_DRUMS: Record<"hat" | "shaker" | "clap" | "cymbal", NoiseDrum> = {
  hat: { mode: "high", hz: 7500, q: 0.7, attack: 0.0005, decay: 0.03, level: 0.35 },
  shaker: { mode: "band", hz: 6000, q: 1.4, attack: 0.008, decay: 0.05, level: 0.7 },
  clap: { mode: "band", hz: 1400, q: 1.2, attack: 0.0005, decay: 0, level: 0.9, claps: true },
  cymbal: { mode: "high", hz: 5000, q: 0.7, attack: 0.002, decay: 0.6, level: 0.25 },
};

/** Filtered seeded noise: hats, shakers, claps and a soft cymbal. */
export class NoiseVoice extends MonoVoice {
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
