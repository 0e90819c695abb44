/**
 * The score's time plan: how long the body is and where the final chord lands, how intense the
 * music is at any moment, one chord slot per bar (voice-led), and when each layer comes in.
 */
import {
  bassNote,
  type Chord,
  chordPitchClasses,
  chordRootPc,
  type MoodProfile,
  PAD_RANGE,
  padPitchClasses,
  voiceLead,
} from "./music-theory.js";

export type Layer = "bass" | "arp" | "melody" | "percussion";
export const LAYERS: readonly Layer[] = ["bass", "arp", "melody", "percussion"];

/** A layer joins with the first scene that starts this far (0–1) along the way to the cadence. */
const LAYER_THRESHOLDS: Record<Layer, number> = { bass: 0.12, arp: 0.28, melody: 0.45, percussion: 0.6 };

export interface Timeline {
  totalSeconds: number;
  bpm: number;
  beatSeconds: number;
  /** The beat on which the final tonic lands; everything after it is the ring-out. */
  cadenceBeat: number;
  cadenceSeconds: number;
  tailSeconds: number;
}

/** How far the tempo may bend from the mood's so that every scene is a whole number of beats. */
export const MAX_BEAT_GRID_BEND = 0.15;

/**
 * Fits the piece to the requested length: an even number of beats, then a ~3 s tail for the final
 * chord. The tempo may bend a few percent from the mood's so the cadence lands on a beat — or,
 * given the scenes' lengths, so that every cut between scenes lands on a beat (each scene a whole
 * number of beats: 4 s scenes at 75 bpm are 5 beats each), when that is within
 * MAX_BEAT_GRID_BEND of the mood's tempo. The score and the video then agree on where the cuts are.
 */
export function planTimeline(
  totalSeconds: number,
  nominalBpm: number,
  sceneSeconds: readonly number[] = [],
): Timeline {
  const tailTarget = clamp(totalSeconds * 0.22, 1, 3);
  const tailMin = tailTarget * 0.85;
  const tailMax = Math.min(tailTarget + 0.8, totalSeconds * 0.5);
  const cost = (bpm: number, tail: number, beats: number) =>
    20 * Math.abs(Math.log(bpm / nominalBpm)) +
    0.5 * Math.abs(tail - tailTarget) +
    (beats % 4 === 0 ? 0 : 0.1);
  let best: { beats: number; beatSeconds: number; cost: number } | null = null;

  const grid = sceneGrid(sceneSeconds);
  if (grid !== null) {
    // Every cut is a multiple of `grid` seconds: a beat of grid/n puts each one on a beat. The
    // tempo is then fixed, so the tail may stretch by up to a beat to fit an even beat count.
    for (let n = 1; n <= 64; n += 1) {
      const beatSeconds = grid / n;
      const bpm = 60 / beatSeconds;
      if (Math.abs(Math.log(bpm / nominalBpm)) > Math.log(1 + MAX_BEAT_GRID_BEND)) continue;
      for (let beats = 2; beats * beatSeconds < totalSeconds; beats += 2) {
        const tail = totalSeconds - beats * beatSeconds;
        if (tail < Math.max(1, tailMin - beatSeconds) || tail > Math.min(3.8, tailMax + beatSeconds))
          continue;
        const candidate = cost(bpm, tail, beats);
        if (!best || candidate < best.cost) best = { beats, beatSeconds, cost: candidate };
      }
    }
  }
  if (!best) {
    const nominalBeat = 60 / nominalBpm;
    for (let beats = 2; beats * nominalBeat * 0.85 < totalSeconds - tailMin; beats += 2) {
      const tail = clamp(totalSeconds - beats * nominalBeat, tailMin, tailMax);
      const bpm = (beats * 60) / (totalSeconds - tail);
      const candidate = cost(bpm, tail, beats);
      if (!best || candidate < best.cost)
        best = { beats, beatSeconds: (totalSeconds - tail) / beats, cost: candidate };
    }
  }
  // Too short for two beats at a sane tempo: half of it is two quick beats, half is the ring.
  const { beats, beatSeconds } = best ?? { beats: 2, beatSeconds: totalSeconds / 4 };
  return {
    totalSeconds,
    bpm: 60 / beatSeconds,
    beatSeconds,
    cadenceBeat: beats,
    cadenceSeconds: beats * beatSeconds,
    tailSeconds: totalSeconds - beats * beatSeconds,
  };
}

/**
 * The longest step every cut between scenes is a whole multiple of (their lengths' greatest common
 * divisor, to the millisecond), or null when there is no cut or it is under 0.25 s (no tempo fits).
 */
export function sceneGrid(sceneSeconds: readonly number[]): number | null {
  if (sceneSeconds.length < 2) return null;
  const ms = sceneSeconds.slice(0, -1).map((seconds) => Math.round(seconds * 1000));
  if (ms.some((value, i) => value <= 0 || Math.abs(value - sceneSeconds[i]! * 1000) > 1e-6)) return null;
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const step = ms.reduce(gcd);
  return step >= 250 ? step / 1000 : null;
}

/** 0.25 at the start rising to 1 at the cadence, then easing off as the last chord rings. */
export function intensityAt(timeline: Timeline, seconds: number): number {
  const { cadenceSeconds, totalSeconds } = timeline;
  if (seconds <= cadenceSeconds) return 0.25 + 0.75 * clamp(seconds / cadenceSeconds, 0, 1);
  return 1 - 0.7 * clamp((seconds - cadenceSeconds) / (totalSeconds - cadenceSeconds), 0, 1);
}

export type SlotRole = "loop" | "approach" | "cadential" | "tonic";

export interface ChordSlot {
  startBeat: number;
  beats: number;
  chord: Chord;
  role: SlotRole;
  pcs: number[];
  /** Pad notes (MIDI), voice-led from the previous slot. */
  voicing: number[];
  bass: number;
}

/** Chords one per bar from the mood's loop, then approach → cadential → tonic. */
export function buildSlots(profile: MoodProfile, timeline: Timeline): ChordSlot[] {
  const { tonic, mode, progression, cadence } = profile;
  const lengths: number[] = [];
  for (let beat = 0; beat < timeline.cadenceBeat; beat += 4)
    lengths.push(Math.min(4, timeline.cadenceBeat - beat));
  const plan: { chord: Chord; role: SlotRole }[] = lengths.map((_, i) => ({
    chord: progression[i % progression.length],
    role: "loop",
  }));
  const n = plan.length;
  plan[n - 1] = { chord: cadence.cadential, role: "cadential" };
  if (n >= 3) plan[n - 2] = { chord: cadence.approach, role: "approach" };
  // The same chord twice in a row right before the approach sounds like a stall.
  if (n >= 4 && plan[n - 3].chord.degree === cadence.approach.degree)
    plan[n - 3] = { chord: progression[0], role: "loop" };
  plan.push({ chord: cadence.tonic, role: "tonic" });
  lengths.push(timeline.tailSeconds / timeline.beatSeconds);

  const slots: ChordSlot[] = [];
  let startBeat = 0;
  let previous: number[] | null = null;
  let previousBass: number | null = null;
  plan.forEach(({ chord, role }, i) => {
    const pcs = chordPitchClasses(tonic, mode, chord);
    const voicing = voiceLead(previous, padPitchClasses(pcs), PAD_RANGE);
    const bass = bassNote(chordRootPc(tonic, mode, chord), previousBass);
    slots.push({ startBeat, beats: lengths[i], chord, role, pcs, voicing, bass });
    startBeat += lengths[i];
    previous = voicing;
    previousBass = bass;
  });
  return slots;
}

export function enterLayers(
  sceneStarts: readonly number[],
  timeline: Timeline,
): Record<Layer, number | null> {
  const barSeconds = 4 * timeline.beatSeconds;
  const lastBar = Math.ceil(timeline.cadenceSeconds / barSeconds - 1e-9) - 1;
  const entries = {} as Record<Layer, number | null>;
  let previousBar = -1;
  for (const layer of LAYERS) {
    const threshold = LAYER_THRESHOLDS[layer];
    // One long scene has no cuts to follow, so layers come in by time alone.
    const at =
      sceneStarts.length === 1
        ? threshold * timeline.cadenceSeconds
        : sceneStarts.find((start) => start / timeline.cadenceSeconds >= threshold);
    if (at === undefined) {
      entries[layer] = null;
      continue;
    }
    // On the nearest bar line: music that changes mid-bar sounds like a mistake, and leading a cut
    // by half a bar reads as intentional. Layers due on the same bar are staggered a bar apart
    // when there is room, so even a two-scene video builds rather than jumps.
    let bar = Math.round(at / barSeconds);
    if (bar <= previousBar) bar = Math.min(previousBar + 1, lastBar);
    if (bar > lastBar) {
      entries[layer] = null;
      continue;
    }
    entries[layer] = bar * barSeconds;
    previousBar = bar;
  }
  return entries;
}

/** x limited to low..high. */
export function clamp(x: number, low: number, high: number): number {
  return Math.min(Math.max(x, low), high);
}
