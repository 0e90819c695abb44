/**
 * Light percussion: one bar pattern per style, humanised a little, and a kick (plus a cymbal in
 * the livelier styles) under the final chord.
 */

import type { MoodProfile } from "./music-theory.js";
import type { BusId, InstrumentKind, NoteEvent } from "./note-event.js";
import { beatTime, type Ctx, dynamics, frame, seedFrom } from "./score-context.js";

type DrumHit = readonly [kind: InstrumentKind, sixteenth: number, velocity: number];

/** One bar of each style, in sixteenths. Light on purpose: this is a bed under a voice-over. */
const DRUM_PATTERNS: Record<Exclude<MoodProfile["percussion"], "none">, readonly DrumHit[]> = {
  soft: [
    ["kick", 0, 0.45],
    ["kick", 8, 0.3],
    ["shaker", 4, 0.35],
    ["shaker", 12, 0.35],
    ["shaker", 6, 0.2],
    ["shaker", 14, 0.2],
  ],
  pulse: [
    ["kick", 0, 0.8],
    ["kick", 10, 0.5],
    ["clap", 8, 0.4],
    ["hat", 2, 0.4],
    ["hat", 6, 0.4],
    ["hat", 10, 0.4],
    ["hat", 14, 0.4],
    ["hat", 15, 0.18],
  ],
  acoustic: [
    ["kick", 0, 0.6],
    ["kick", 8, 0.45],
    ["clap", 4, 0.28],
    ["clap", 12, 0.28],
    ...[0, 2, 4, 6, 8, 10, 12, 14].map((s): DrumHit => ["shaker", s, s % 4 === 2 ? 0.45 : 0.28]),
  ],
  pop: [
    ...[0, 4, 8, 12].map((s): DrumHit => ["kick", s, s % 8 === 0 ? 0.7 : 0.6]),
    ["clap", 4, 0.45],
    ["clap", 12, 0.45],
    ...[2, 6, 10, 14].map((s): DrumHit => ["hat", s, 0.4]),
  ],
};

const DRUM_SHAPE: Partial<Record<InstrumentKind, { gate: number; release: number; pan: number }>> = {
  kick: { gate: 0.3, release: 0.12, pan: 0 },
  hat: { gate: 0.08, release: 0.04, pan: 0.3 },
  shaker: { gate: 0.1, release: 0.05, pan: -0.35 },
  clap: { gate: 0.2, release: 0.08, pan: 0.08 },
  cymbal: { gate: 1.1, release: 0.6, pan: -0.15 },
};

export function percussionEvents(ctx: Ctx): NoteEvent[] {
  const style = ctx.profile.percussion;
  const entry = ctx.entryBeat("percussion");
  if (style === "none" || entry === null) return [];
  const rng = ctx.rng("percussion");
  const beat = ctx.timeline.beatSeconds;
  const events: NoteEvent[] = [];
  const hit = (kind: InstrumentKind, atSec: number, velocity: number): void => {
    const shape = DRUM_SHAPE[kind] ?? { gate: 0.1, release: 0.05, pan: 0 };
    const jitter = kind === "kick" ? 0 : (rng() - 0.5) * 0.004;
    events.push({
      kind,
      bus: "drums" satisfies BusId,
      start: frame(ctx, Math.max(0, atSec + jitter)),
      gate: frame(ctx, shape.gate),
      release: frame(ctx, shape.release),
      midi: 60,
      velocity: velocity * (0.94 + 0.12 * rng()) * dynamics(ctx, atSec),
      pan: shape.pan,
      seed: seedFrom(rng),
    });
  };
  for (const slot of ctx.slots) {
    if (slot.startBeat < entry) continue;
    const slotSec = beatTime(ctx, slot.startBeat);
    if (slot.role === "tonic") {
      hit("kick", slotSec, 0.6);
      if (style !== "soft") hit("cymbal", slotSec, 0.5);
      continue;
    }
    for (const [kind, sixteenth, velocity] of DRUM_PATTERNS[style]) {
      if (sixteenth < slot.beats * 4) hit(kind, slotSec + (sixteenth / 4) * beat, velocity);
    }
  }
  return events;
}
