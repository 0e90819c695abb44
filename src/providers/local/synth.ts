/**
 * The embedded score's instrument set: turns a composer's note event into the voice that plays
 * it. The voices live in melodic-voices.ts and drum-voices.ts, their building blocks in
 * synth-dsp.ts; the mixer (score-renderer.ts) adds the shared effects.
 */
import { KickVoice, NOISE_DRUMS, NoiseVoice } from "./drum-voices.js";
import {
  BassVoice,
  FM_BELL,
  FM_KEYS,
  FmVoice,
  LeadVoice,
  PadVoice,
  PluckVoice,
  SynthPluckVoice,
} from "./melodic-voices.js";
import type { Voice } from "./mono-voice.js";
import type { NoteEvent } from "./note-event.js";

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
