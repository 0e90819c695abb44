/**
 * What every part of the arrangement (pad, bass, arpeggio, melody, drums) works from — the mood,
 * the time plan, the chord slots, per-layer random streams — and the time helpers they share.
 */
import type { MoodProfile } from "./music-theory.js";
import { type ChordSlot, intensityAt, type Layer, type Timeline } from "./score-timeline.js";

/** The arrangement context: one per composed score. */
export interface Ctx {
  profile: MoodProfile;
  timeline: Timeline;
  slots: ChordSlot[];
  sr: number;
  entryBeat: (layer: Layer) => number | null;
  rng: (layer: string) => () => number;
}

export const frame = (ctx: Ctx, seconds: number): number => Math.round(seconds * ctx.sr);
export const beatTime = (ctx: Ctx, beat: number): number => beat * ctx.timeline.beatSeconds;
export const seedFrom = (rng: () => number): number => Math.floor(rng() * 4294967296) >>> 0;
/** 0.75–1 over the piece: everything gets a little louder as the tour goes on. */
export const dynamics = (ctx: Ctx, seconds: number): number =>
  0.75 + 0.25 * intensityAt(ctx.timeline, seconds);

/** The moment the final chord stops being held and starts to ring out, and where it must be silent. */
export function ending(ctx: Ctx): { ringStart: number; silentAt: number } {
  const { totalSeconds, cadenceSeconds } = ctx.timeline;
  const silentAt = totalSeconds - Math.min(0.25, totalSeconds * 0.05);
  const ringStart = Math.max(
    cadenceSeconds + Math.min(0.5, ctx.timeline.tailSeconds * 0.25),
    totalSeconds - 2.05,
  );
  return { ringStart, silentAt };
}
