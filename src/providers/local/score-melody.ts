/**
 * The melody: a one-bar motif developed in four-bar phrases (statement, sequence, statement,
 * answer) over the chords, resolving onto the tonic chord at the end.
 */
import { clashesWith, MELODY_STEPS, nearestPitch, scalePool } from "./music-theory.js";
import type { NoteEvent } from "./note-event.js";
import { beatTime, type Ctx, dynamics, ending, frame, seedFrom } from "./score-context.js";
import { clamp } from "./score-timeline.js";

type Rhythm = readonly (readonly [start: number, length: number])[];

/** "start:length …" in eighths of a bar → rhythm. Strings keep the library readable at a glance. */
function rhythm(spec: string): Rhythm {
  return spec.split(" ").map((note) => {
    const [start, length] = note.split(":").map(Number);
    return [start, length] as const;
  });
}

/** Bar rhythms in eighths. Slow moods get the airier ones. */
const SLOW_RHYTHMS: Rhythm[] = ["0:4 4:2 6:2", "0:3 3:1 4:4", "2:2 4:4", "0:2 2:2 4:4"].map(rhythm);
const FAST_RHYTHMS: Rhythm[] = [
  "0:2 2:1 3:1 4:4",
  "0:3 3:1 4:2 6:2",
  "1:1 2:2 4:3",
  "0:1 1:1 2:2 4:2 6:2",
  "0:2 3:1 4:4",
].map(rhythm);

export interface Motif {
  rhythm: Rhythm;
  /** Steps through the melody scale relative to the phrase's anchor, one per note. */
  contour: number[];
}

/** A one-bar idea: a rhythm from the library and a small random walk (mostly steps, a few leaps). */
export function makeMotif(rng: () => number, slow: boolean): Motif {
  const library = slow ? SLOW_RHYTHMS : FAST_RHYTHMS;
  const rhythm = library[Math.floor(rng() * library.length)];
  const contour = [0];
  // No repeated-note moves: a motif that stands still sounds like a stuck key.
  const moves = [-2, -1, -1, 1, 1, 2];
  for (let i = 1; i < rhythm.length; i++) {
    contour.push(clamp(contour[i - 1] + moves[Math.floor(rng() * moves.length)], -3, 4));
  }
  return { rhythm, contour };
}

/**
 * Four-bar phrases from one motif: statement, sequence (shifted a step), statement again, and an
 * answer that settles on a long chord tone. Each new phrase shifts the anchor, so the melody
 * travels while staying recognisably the same idea.
 */
export function melodyEvents(ctx: Ctx): NoteEvent[] {
  const entry = ctx.entryBeat("melody");
  if (entry === null) return [];
  const rng = ctx.rng("melody");
  const { melody, tonic, mode } = ctx.profile;
  const beat = ctx.timeline.beatSeconds;
  const motif = makeMotif(rng, ctx.profile.bpm < 80);
  const low = melody.centre - 10;
  const high = melody.centre + 10;
  const pool = scalePool(tonic, MELODY_STEPS[mode], low, high);
  const anchor = pool.indexOf(
    nearestPitch(
      pool.map((m) => m % 12),
      melody.centre,
      low,
      high,
    ),
  );
  const release = melody.instrument === "lead" ? 0.25 : 0.7;
  const events: NoteEvent[] = [];
  let last = pool[anchor];
  let offset = 0;
  let bar = 0;
  const { ringStart, silentAt } = ending(ctx);
  for (const slot of ctx.slots) {
    if (slot.startBeat < entry) continue;
    const slotSec = beatTime(ctx, slot.startBeat);
    if (slot.role === "tonic") {
      // Resolve to the nearest root or third of the tonic chord.
      const target = nearestPitch([slot.pcs[0], slot.pcs[1]], last, low, high);
      const gate = ringStart - slotSec + 0.3;
      events.push(melodyNote(ctx, slotSec, gate, silentAt - ringStart - 0.3, target, 0.7, seedFrom(rng)));
      continue;
    }
    const k = bar % 4;
    if (k === 0) offset = [-1, 0, 1, 2][Math.floor(rng() * 4)];
    bar++;
    let notes = motif.rhythm.map(([start, length], i) => ({
      start,
      length,
      step: motif.contour[i] + offset,
    }));
    if (k === 1) {
      const shift = rng() < 0.5 ? 1 : -1;
      notes = notes.map((n, i) => ({ ...n, step: n.step + shift + (i === notes.length - 1 ? shift : 0) }));
    } else if (k === 3 || slot.role === "cadential") {
      if (slot.role !== "cadential" && rng() < 0.25) continue; // a bar of breath
      const opening = notes.filter((n) => n.start < 4).slice(0, 2);
      const lastStep = opening[opening.length - 1]?.step ?? offset;
      notes = [...opening, { start: 4, length: 4, step: lastStep - 1 }];
    }
    notes = notes.filter((_, i) => i === 0 || rng() < melody.density);
    for (const n of notes) {
      if (n.start >= slot.beats * 2) continue;
      let midi = pool[clamp(anchor + n.step, 0, pool.length - 1)];
      // Strong beats sit on chord tones; nothing may sit a semitone above one.
      if (n.start % 4 === 0 || clashesWith(midi, slot.pcs)) midi = nearestPitch(slot.pcs, midi, low, high);
      const length = Math.min(n.length, slot.beats * 2 - n.start) * (beat / 2);
      const at = slotSec + n.start * (beat / 2) + (rng() - 0.5) * 0.01;
      const accent = n.start % 4 === 0 ? 0.8 : 0.65;
      events.push(melodyNote(ctx, at, length * 0.92, release, midi, accent, seedFrom(rng)));
      last = midi;
    }
  }
  return events;
}

function melodyNote(
  ctx: Ctx,
  atSec: number,
  gateSec: number,
  releaseSec: number,
  midi: number,
  accent: number,
  seed: number,
): NoteEvent {
  const { melody } = ctx.profile;
  return {
    kind: melody.instrument,
    bus: "lead",
    start: frame(ctx, Math.max(0, atSec)),
    gate: frame(ctx, Math.max(0.05, gateSec)),
    release: frame(ctx, Math.max(0.05, releaseSec)),
    midi,
    velocity: melody.level * accent * dynamics(ctx, atSec),
    pan: 0.08,
    seed,
  };
}
