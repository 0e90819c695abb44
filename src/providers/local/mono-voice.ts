/**
 * What every instrument voice is: something that adds its samples into a bus block by block
 * until it falls silent, and the shared base of the mono instruments (envelope and pan).
 */

import type { NoteEvent } from "./note-event.js";
import { Envelope, panGains } from "./synth-dsp.js";

/** A sounding note: adds its samples into a bus, block after block, until `end`. */
export interface Voice {
  /** Absolute frame at which the voice has fallen silent for good. */
  readonly end: number;
  /** Adds the voice's next `frames` samples into left/right from index `offset`. */
  render(left: Float32Array, right: Float32Array, offset: number, frames: number): void;
}

export const hz = (midi: number): number => 440 * 2 ** ((midi - 69) / 12);

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
export abstract class MonoVoice implements Voice {
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
