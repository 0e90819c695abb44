/**
 * The harmonic bed of the score: the pad (common tones held across chord changes), the bass in
 * the mood's style, and the arpeggio with its patterns, strums and the final struck chord.
 */

import type { MoodProfile } from "./music-theory.js";
import type { InstrumentKind, NoteEvent } from "./note-event.js";
import { beatTime, type Ctx, dynamics, ending, frame, seedFrom } from "./score-context.js";
import type { ChordSlot } from "./score-timeline.js";

export function padEvents(ctx: Ctx): NoteEvent[] {
  const rng = ctx.rng("pad");
  const { pad } = ctx.profile;
  const { ringStart, silentAt } = ending(ctx);
  const events: NoteEvent[] = [];
  let held = new Map<number, NoteEvent>();
  ctx.slots.forEach((slot, i) => {
    const startSec = beatTime(ctx, slot.startBeat);
    const isTonic = slot.role === "tonic";
    const gateEnd = frame(ctx, isTonic ? ringStart : beatTime(ctx, slot.startBeat + slot.beats));
    const release = isTonic ? frame(ctx, silentAt) - gateEnd : frame(ctx, 1.1);
    const next = new Map<number, NoteEvent>();
    slot.voicing.forEach((midi, v) => {
      // A common tone is held through the chord change rather than struck again.
      const tied = held.get(midi);
      const event: NoteEvent = tied ?? {
        kind: "pad",
        bus: "pad",
        start: frame(ctx, startSec),
        gate: 0,
        release: 0,
        attack: frame(ctx, i === 0 ? pad.attackSeconds : 0.35),
        midi,
        velocity: pad.level * dynamics(ctx, startSec),
        pan: [-0.4, -0.12, 0.12, 0.4][v] ?? 0,
        seed: seedFrom(rng),
        detuneCents: pad.detuneCents,
      };
      event.gate = gateEnd - event.start;
      event.release = release;
      if (!tied) events.push(event);
      next.set(midi, event);
    });
    held = next;
  });
  return events;
}

export function bassEvents(ctx: Ctx): NoteEvent[] {
  const entry = ctx.entryBeat("bass");
  if (entry === null) return [];
  const rng = ctx.rng("bass");
  const { bass } = ctx.profile;
  const { ringStart, silentAt } = ending(ctx);
  const beat = ctx.timeline.beatSeconds;
  const events: NoteEvent[] = [];
  const note = (atBeat: number, midi: number, lengthBeats: number, release: number, accent: number): void => {
    const at = beatTime(ctx, atBeat);
    events.push({
      kind: "bass",
      bus: "bass",
      start: frame(ctx, at),
      gate: frame(ctx, lengthBeats * beat),
      release: frame(ctx, release),
      midi,
      velocity: bass.level * accent * dynamics(ctx, at),
      pan: 0,
      seed: seedFrom(rng),
    });
  };
  for (const slot of ctx.slots) {
    if (slot.startBeat < entry) continue;
    if (slot.role === "tonic") {
      const at = beatTime(ctx, slot.startBeat);
      events.push({
        kind: "bass",
        bus: "bass",
        start: frame(ctx, at),
        gate: frame(ctx, ringStart) - frame(ctx, at),
        release: frame(ctx, silentAt) - frame(ctx, ringStart),
        midi: slot.bass,
        velocity: bass.level * dynamics(ctx, at),
        pan: 0,
        seed: seedFrom(rng),
      });
      continue;
    }
    if (bass.style === "sustain") {
      note(slot.startBeat, slot.bass, slot.beats - 0.1, 0.35, 0.9);
    } else if (bass.style === "root-fifth") {
      const fifth = slot.bass + 7 <= 50 ? slot.bass + 7 : slot.bass - 5;
      note(slot.startBeat, slot.bass, Math.min(1.8, slot.beats), 0.15, 0.9);
      if (slot.beats >= 4) note(slot.startBeat + 2, fifth, 1.8, 0.15, 0.75);
    } else {
      for (let k = 0; k < slot.beats * 2; k++) {
        // Eighth-note pulse with an octave pickup on the last eighth of the bar.
        const midi = k === 7 ? slot.bass + 12 : slot.bass;
        note(slot.startBeat + k / 2, midi, 0.4, 0.06, k % 2 === 0 ? 0.95 : 0.7);
      }
    }
  }
  return events;
}

/** Voicing notes lifted to the instrument's register, plus the lowest two an octave up. */
function arpPool(voicing: readonly number[], low: number): number[] {
  const shift = 12 * Math.max(0, Math.ceil((low - voicing[0]) / 12));
  const notes = voicing.map((m) => m + shift);
  return [...notes, notes[0] + 12, notes[1] + 12];
}

const ARP_LOW: Partial<Record<InstrumentKind, number>> = { keys: 58, pluck: 52, synthPluck: 60, bell: 67 };

interface ArpStep {
  /** Position in sixteenths from the bar line, pool index, velocity, length in beats. */
  at: number;
  index: number;
  velocity: number;
  beats: number;
}

function arpPattern(style: MoodProfile["arp"]["style"], rng: () => number, poolSize: number): ArpStep[] {
  switch (style) {
    case "rolling":
      return [0, 1, 2, 3, 4, 3, 2, 1].map((index, k) => ({
        at: k * 2,
        index,
        velocity: k % 2 === 0 ? 0.62 : 0.48,
        beats: 1,
      }));
    case "pulse16":
      return [0, 2, 1, 3, 2, 4, 1, 3, 0, 2, 1, 3, 2, 5, 1, 3].map((index, k) => ({
        at: k,
        index,
        velocity: k % 4 === 0 ? 0.7 : k % 2 === 0 ? 0.5 : 0.36,
        beats: 0.2,
      }));
    case "fingerpick":
      // The thumb takes the lowest note on beats 1 and 3, the fingers alternate above it.
      return [0, 2, 1, 3, 0, 2, 1, 4].map((index, k) => ({
        at: k * 2,
        index,
        velocity: k % 4 === 0 ? 0.7 : 0.5,
        beats: 1.5,
      }));
    case "offbeat":
      // 3-3-2 syncopation: the push that makes it feel upbeat without drums doing all the work.
      return [0, 3, 6, 8, 11, 14].map((at, k) => ({
        at,
        index: [2, 1, 3, 2, 4, 1][k],
        velocity: [0.7, 0.55, 0.6, 0.65, 0.55, 0.6][k],
        beats: 0.4,
      }));
    case "sparse": {
      // Bells on some beats, never the same note twice running.
      const steps: ArpStep[] = [];
      let last = -1;
      for (let b = 0; b < 4; b++) {
        if (b > 0 && rng() > 0.55) continue;
        let index = Math.floor(rng() * poolSize);
        if (index === last) index = (index + 2) % poolSize;
        last = index;
        steps.push({ at: b * 4, index, velocity: 0.45 + 0.15 * rng(), beats: 0.5 });
      }
      return steps;
    }
  }
}

export function arpEvents(ctx: Ctx): NoteEvent[] {
  const rng = ctx.rng("arp");
  const { arp } = ctx.profile;
  const low = ARP_LOW[arp.instrument] ?? 58;
  const beat = ctx.timeline.beatSeconds;
  const { silentAt } = ending(ctx);
  const release = arp.style === "sparse" ? 1.6 : arp.style === "rolling" ? 0.6 : 0.15;
  const events: NoteEvent[] = [];
  const push = (atSec: number, midi: number, velocity: number, gateSec: number, releaseSec: number): void => {
    // A few milliseconds of human timing; never before the note's bar line by more than that.
    const jitter = (rng() - 0.5) * 0.008;
    events.push({
      kind: arp.instrument,
      bus: "arp",
      start: frame(ctx, Math.max(0, atSec + jitter)),
      gate: frame(ctx, gateSec),
      release: frame(ctx, releaseSec),
      midi,
      velocity: arp.level * velocity * (0.94 + 0.12 * rng()) * dynamics(ctx, atSec),
      pan: ((midi % 5) - 2) * 0.12,
      seed: seedFrom(rng),
    });
  };
  const roll = (
    slot: ChordSlot,
    atSec: number,
    velocity: number,
    gateSec: number,
    releaseSec: number,
  ): void => {
    const pool = arpPool(slot.voicing, low).slice(0, 5);
    const spread = Math.min(0.09, beat / 8);
    pool.forEach((midi, k) => {
      push(atSec + k * spread, midi, velocity, gateSec - k * spread, releaseSec);
    });
  };
  const entry = ctx.entryBeat("arp");
  // A soft strum of the first chord gives the opening a definite start even before the arp is in.
  if (entry !== 0) roll(ctx.slots[0], 0.005, 0.4, 1.5 * beat, 0.9);
  for (const slot of ctx.slots) {
    const slotSec = beatTime(ctx, slot.startBeat);
    if (slot.role === "tonic") {
      // The resolution is always struck, whether or not the arp had come in: it is the full stop.
      const gateEnd = ctx.timeline.totalSeconds - 1.2;
      roll(slot, slotSec, 0.55, Math.max(0.3, gateEnd - slotSec), Math.max(0.2, silentAt - gateEnd));
      continue;
    }
    if (entry === null || slot.startBeat < entry) continue;
    const pool = arpPool(slot.voicing, low);
    for (const step of arpPattern(arp.style, rng, pool.length)) {
      if (step.at >= slot.beats * 4) continue;
      const gate = Math.min(step.beats, slot.beats - step.at / 4 + 0.5);
      push(
        slotSec + (step.at / 4) * beat,
        pool[step.index % pool.length],
        step.velocity,
        gate * beat,
        release,
      );
    }
  }
  return events;
}
