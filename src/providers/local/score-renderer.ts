/**
 * The embedded score's renderer: plays a composed score (voices from synth.ts as their notes come
 * due), mixes the buses through the pad filter, echo and reverb, masters the sum (DC block, air,
 * fades, soft limit) and encodes it as WAV, block by block. Pure computation: it runs in a media
 * worker thread (src/workers/media.worker.ts); local-music.provider.ts writes the bytes.
 */

import type { MusicMood } from "../../domain/vocabulary.js";
import type { MusicSegment } from "../types.js";
import type { Voice } from "./mono-voice.js";
import { BUS_IDS, type BusId } from "./note-event.js";
import { composeScore, type Score, scoreSeed } from "./score-composer.js";
import { intensityAt } from "./score-timeline.js";
import { createVoice } from "./synth.js";
import { OnePole, StateVariableFilter, softLimit } from "./synth-dsp.js";
import { PingPongDelay, Reverb } from "./synth-effects.js";
import { encodeFrames, type WavSampleFormat, wavHeader } from "./wav.js";

/** −1.2 dBFS: the limiter's asymptote, so the quantised peak stays at or under −1 dBFS. */
const CEILING = 10 ** (-1.2 / 20);
/** With the per-mood trims, puts every mood near −16 LUFS integrated (ebur128) before normalisation. */
const MASTER_GAIN = 0.5;
/** High-shelf amount: +3 dB (×1.41) above the shelf corner. */
const AIR = 0.41;

/** How loud each bus is and how much of it goes to the reverb and the echo. */
const BUS_MIX: Record<BusId, { gain: number; reverb: number; delay: number }> = {
  pad: { gain: 1, reverb: 0.7, delay: 0 },
  bass: { gain: 1, reverb: 0.05, delay: 0 },
  arp: { gain: 1, reverb: 0.8, delay: 1 },
  lead: { gain: 1, reverb: 0.9, delay: 1 },
  drums: { gain: 0.9, reverb: 0.2, delay: 0 },
};

type Stereo = [Float32Array, Float32Array];

/**
 * Plays a score: starts voices as their notes come due, mixes the buses through the pad filter,
 * echo and reverb, and masters (DC block, fades, soft limit). Call render() until done.
 */
export class ScoreRenderer {
  private readonly playing: { voice: Voice; begin: number; bus: Stereo }[] = [];
  private nextEvent = 0;
  private position = 0;
  private readonly buses: Record<BusId, Stereo>;
  private readonly sends: { reverb: Stereo; delay: Stereo; reverbOut: Stereo; delayOut: Stereo };
  private readonly padFilter: [StateVariableFilter, StateVariableFilter];
  private readonly dcBlock: [OnePole, OnePole];
  private readonly air: [OnePole, OnePole];
  private readonly reverb: Reverb;
  private readonly delay: PingPongDelay;
  private readonly fadeInFrames: number;
  private readonly fadeOutFrames: number;
  private readonly pumpFrom: number;
  private readonly pumpTo: number;
  private readonly beatFrames: number;

  constructor(
    private readonly score: Score,
    private readonly maxBlock = 1024,
  ) {
    const stereo = (): Stereo => [new Float32Array(maxBlock), new Float32Array(maxBlock)];
    this.buses = Object.fromEntries(BUS_IDS.map((id) => [id, stereo()])) as Record<BusId, Stereo>;
    this.sends = { reverb: stereo(), delay: stereo(), reverbOut: stereo(), delayOut: stereo() };
    const sr = score.sampleRate;
    const { space } = score.profile;
    this.padFilter = [new StateVariableFilter(sr), new StateVariableFilter(sr)];
    this.dcBlock = [new OnePole(sr, 25), new OnePole(sr, 25)];
    this.air = [new OnePole(sr, 3500), new OnePole(sr, 3500)];
    this.reverb = new Reverb(sr, { roomSize: space.roomSize, damping: space.damping });
    this.delay = new PingPongDelay(sr, space.delayBeats * score.timeline.beatSeconds, space.delayFeedback);
    this.fadeInFrames = Math.round(0.01 * sr);
    this.fadeOutFrames = Math.round(Math.min(1.2, score.timeline.tailSeconds * 0.45) * sr);
    this.beatFrames = score.timeline.beatSeconds * sr;
    const bassEntry = score.layerEntries.bass;
    // The pump starts with the bass and stops at the cadence — both on beat lines, where its gain is 1.
    this.pumpFrom =
      score.profile.pump > 0 && bassEntry !== null ? Math.round(bassEntry * sr) : Number.POSITIVE_INFINITY;
    this.pumpTo = Math.round(score.timeline.cadenceSeconds * sr);
  }

  get done(): boolean {
    return this.position >= this.score.totalFrames;
  }

  /** Renders up to `frames` (≤ maxBlock) more frames into left/right; returns how many. */
  render(left: Float32Array, right: Float32Array, frames: number): number {
    const n = Math.min(frames, this.maxBlock, this.score.totalFrames - this.position);
    if (n <= 0) return 0;
    const from = this.position;
    const to = from + n;
    for (const [l, r] of Object.values(this.buses)) {
      l.fill(0, 0, n);
      r.fill(0, 0, n);
    }
    this.startDueVoices(to);
    this.playVoices(from, to);
    this.shapePad(from, n);
    this.mix(left, right, from, n);
    this.position = to;
    return n;
  }

  private startDueVoices(to: number): void {
    const { events, sampleRate } = this.score;
    while (this.nextEvent < events.length && events[this.nextEvent].start < to) {
      const event = events[this.nextEvent++];
      this.playing.push({
        voice: createVoice(event, sampleRate),
        begin: event.start,
        bus: this.buses[event.bus],
      });
    }
  }

  private playVoices(from: number, to: number): void {
    let kept = 0;
    for (const playing of this.playing) {
      const { voice, begin, bus } = playing;
      const start = Math.max(from, begin);
      const stop = Math.min(to, voice.end);
      if (stop > start) voice.render(bus[0], bus[1], start - from, stop - start);
      if (voice.end > to) this.playing[kept++] = playing;
    }
    this.playing.length = kept;
  }

  /** Filter opens with intensity; in pumping moods the pad ducks on every beat, like a sidechain. */
  private shapePad(from: number, n: number): void {
    const { pad, pump } = this.score.profile;
    const seconds = from / this.score.sampleRate;
    const cutoff =
      pad.cutoffLowHz * (pad.cutoffHighHz / pad.cutoffLowHz) ** intensityAt(this.score.timeline, seconds);
    const [l, r] = this.buses.pad;
    const [fl, fr] = this.padFilter;
    fl.set(cutoff, 0.8);
    fr.set(cutoff, 0.8);
    for (let i = 0; i < n; i++) {
      let g = 1;
      const f = from + i;
      if (f >= this.pumpFrom && f < this.pumpTo) g = pumpGain((f - this.pumpFrom) / this.beatFrames, pump);
      l[i] = fl.lowpass(l[i]) * g;
      r[i] = fr.lowpass(r[i]) * g;
    }
  }

  private mix(left: Float32Array, right: Float32Array, from: number, n: number): void {
    const { space } = this.score.profile;
    const { reverb, delay, reverbOut, delayOut } = this.sends;
    const dry: Stereo = [left, right];
    for (const ch of [0, 1] as const) {
      reverb[ch].fill(0, 0, n);
      delay[ch].fill(0, 0, n);
      dry[ch].fill(0, 0, n);
    }
    for (const id of BUS_IDS) {
      const { gain, reverb: rs, delay: ds } = BUS_MIX[id];
      const toReverb = rs * space.reverbSend;
      const toDelay = ds * space.delaySend;
      for (const ch of [0, 1] as const) {
        // Locals, not this.x[ch][i]: this loop runs for every sample of every bus.
        const x = this.buses[id][ch];
        const d = dry[ch];
        const r = reverb[ch];
        const e = delay[ch];
        for (let i = 0; i < n; i++) {
          const v = x[i];
          d[i] += v * gain;
          r[i] += v * toReverb;
          e[i] += v * toDelay;
        }
      }
    }
    this.delay.process(delay[0], delay[1], delayOut[0], delayOut[1], n);
    // Echoes go through the reverb too, so they sit in the same room as the notes.
    for (const ch of [0, 1] as const) {
      const r = reverb[ch];
      const e = delayOut[ch];
      for (let i = 0; i < n; i++) r[i] += e[i] * 0.5;
    }
    this.reverb.process(reverb[0], reverb[1], reverbOut[0], reverbOut[1], n);
    const gain = MASTER_GAIN * this.score.profile.gain;
    const fadeIn = this.fadeInFrames;
    const fadeOut = this.fadeOutFrames;
    const fadeOutFrom = this.score.totalFrames - fadeOut;
    for (const ch of [0, 1] as const) {
      const out = dry[ch];
      const wet = reverbOut[ch];
      const echo = delayOut[ch];
      const dc = this.dcBlock[ch];
      const air = this.air[ch];
      for (let i = 0; i < n; i++) {
        const f = from + i;
        let x = dc.highpass((out[i] + wet[i] + echo[i] * 0.6) * gain);
        // A gentle high shelf (+3 dB above ~4 kHz): synthesised pads and a damped room are dark
        // next to produced library music, and a little air keeps the bed from sounding muffled.
        x += AIR * air.highpass(x);
        if (f < fadeIn) x *= f / fadeIn;
        // Raised-cosine fade that reaches exactly 0 on the last sample: the tail is already near
        // silence by now, this only guarantees the file never ends on a step.
        if (f >= fadeOutFrom) x *= 0.5 * (1 + Math.cos((Math.PI * (f - fadeOutFrom + 1)) / fadeOut));
        out[i] = softLimit(x, CEILING);
      }
    }
  }
}

/** 1 on the beat, dips by `depth` within ~2 % of a beat, recovers smoothly by 60 % of it. */
export function pumpGain(beatPosition: number, depth: number): number {
  const p = beatPosition - Math.floor(beatPosition);
  const x = Math.min(1, p / 0.6);
  const recovered = x * x * (3 - 2 * x);
  return 1 - depth * Math.min(1, p / 0.02) * (1 - recovered);
}
/** A score to render: what the music provider was asked, plus how to encode it. */
export interface ScoreAudioRequest {
  mood: MusicMood;
  segments: readonly MusicSegment[];
  sampleRate: number;
  /** WAV sample encoding; 24-bit keeps headroom for the later loudness normalisation. */
  sampleFormat: WavSampleFormat;
  /** Frames per mixer block (~21 ms at 48 kHz for 1024): the pad filter moves once a block. */
  blockFrames: number;
}

export interface ScoreAudioChunk {
  bytes: Buffer;
  /** Audio frames encoded so far, and that as a fraction of the whole. */
  frames: number;
  progress: number;
}

/**
 * The whole score as a WAV file's bytes: the header (the length is known up front), then the
 * samples eight blocks at a time — memory stays at a few blocks whatever the length. The same
 * request always gives the same bytes (the seed comes from the request).
 */
export function* scoreWav(request: ScoreAudioRequest): Generator<ScoreAudioChunk> {
  const { sampleRate, sampleFormat, blockFrames } = request;
  const score = composeScore({
    mood: request.mood,
    segments: request.segments,
    sampleRate,
    seed: scoreSeed(request.mood, request.segments, sampleRate),
  });
  const renderer = new ScoreRenderer(score, blockFrames);
  yield {
    bytes: wavHeader({ sampleRate, channels: 2, sampleFormat }, score.totalFrames),
    frames: 0,
    progress: 0,
  };
  const chunkFrames = blockFrames * 8;
  const left = new Float32Array(chunkFrames);
  const right = new Float32Array(chunkFrames);
  let written = 0;
  while (!renderer.done) {
    let filled = 0;
    while (filled < chunkFrames && !renderer.done) {
      filled += renderer.render(left.subarray(filled), right.subarray(filled), chunkFrames - filled);
    }
    written += filled;
    yield {
      bytes: encodeFrames([left, right], filled, sampleFormat),
      frames: written,
      progress: written / score.totalFrames,
    };
  }
}
