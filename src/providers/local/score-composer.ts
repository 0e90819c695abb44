/**
 * Arranges the embedded score. The whole video is one piece in one key and one pulse; the scenes
 * only decide when layers join (pad → + bass → + arpeggio → + melody → + light percussion), so the
 * music grows with the tour instead of restarting at every cut. The body is a whole number of
 * beats ending on a real cadence, and the final tonic chord rings out inside the requested length.
 * Pure: the same input gives the same events, down to the noise seeds.
 */
import type { MusicMood, MusicSegment } from "../types.js";
import {
  bassNote,
  type Chord,
  chordPitchClasses,
  chordRootPc,
  clashesWith,
  MELODY_STEPS,
  type MoodProfile,
  moodProfile,
  nearestPitch,
  PAD_RANGE,
  padPitchClasses,
  scalePool,
  voiceLead,
} from "./music-theory.js";
import { type BusId, createRng, hashString, type InstrumentKind, type NoteEvent } from "./synth.js";

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

/**
 * Fits the piece to the requested length: an even number of beats, then a ~3 s tail for the final
 * chord. The tempo may bend a few percent from the mood's so the cadence lands on a beat.
 */
export function planTimeline(totalSeconds: number, nominalBpm: number): Timeline {
  const tailTarget = clamp(totalSeconds * 0.22, 1, 3);
  const tailMin = tailTarget * 0.85;
  const tailMax = Math.min(tailTarget + 0.8, totalSeconds * 0.5);
  const nominalBeat = 60 / nominalBpm;
  let best: { beats: number; tail: number; cost: number } | null = null;
  for (let beats = 2; beats * nominalBeat * 0.85 < totalSeconds - tailMin; beats += 2) {
    const tail = clamp(totalSeconds - beats * nominalBeat, tailMin, tailMax);
    const bpm = (beats * 60) / (totalSeconds - tail);
    const cost =
      20 * Math.abs(Math.log(bpm / nominalBpm)) +
      0.5 * Math.abs(tail - tailTarget) +
      (beats % 4 === 0 ? 0 : 0.1);
    if (!best || cost < best.cost) best = { beats, tail, cost };
  }
  // Too short for two beats at a sane tempo: half of it is two quick beats, half is the ring.
  const { beats, tail } = best ?? { beats: 2, tail: totalSeconds / 2 };
  const beatSeconds = (totalSeconds - tail) / beats;
  return {
    totalSeconds,
    bpm: 60 / beatSeconds,
    beatSeconds,
    cadenceBeat: beats,
    cadenceSeconds: beats * beatSeconds,
    tailSeconds: tail,
  };
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

export interface Score {
  mood: MusicMood;
  profile: MoodProfile;
  sampleRate: number;
  totalFrames: number;
  timeline: Timeline;
  slots: ChordSlot[];
  sceneStarts: number[];
  /** When each layer comes in (seconds, on a bar line), or null if the video is too short for it. */
  layerEntries: Record<Layer, number | null>;
  /** Sorted by start frame. */
  events: NoteEvent[];
}

export interface ComposeInput {
  mood: MusicMood;
  segments: readonly MusicSegment[];
  sampleRate: number;
  seed: number;
}

/** A seed that depends on everything the request says, so the same request renders the same bytes. */
export function scoreSeed(mood: MusicMood, segments: readonly MusicSegment[], sampleRate: number): number {
  return hashString(`${mood}|${sampleRate}|${segments.map((s) => `${s.sceneType}:${s.seconds}`).join(",")}`);
}

export function composeScore(input: ComposeInput): Score {
  const profile = moodProfile(input.mood);
  const totalSeconds = input.segments.reduce((sum, s) => sum + s.seconds, 0);
  const totalFrames = Math.round(totalSeconds * input.sampleRate);
  const timeline = planTimeline(totalSeconds, profile.bpm);
  const sceneStarts: number[] = [];
  let at = 0;
  for (const segment of input.segments) {
    sceneStarts.push(at);
    at += segment.seconds;
  }
  const slots = buildSlots(profile, timeline);
  const layerEntries = enterLayers(sceneStarts, timeline);
  const ctx: Ctx = {
    profile,
    timeline,
    slots,
    sr: input.sampleRate,
    entryBeat: (layer) => {
      const at = layerEntries[layer];
      return at === null ? null : Math.round(at / timeline.beatSeconds);
    },
    // Each layer draws from its own stream so adding or changing one never reshuffles another.
    rng: (layer) => createRng(input.seed ^ hashString(layer)),
  };
  const events = [
    ...padEvents(ctx),
    ...bassEvents(ctx),
    ...arpEvents(ctx),
    ...melodyEvents(ctx),
    ...percussionEvents(ctx),
  ];
  const fitted = fitInside(events, totalFrames, Math.round(0.15 * input.sampleRate));
  fitted.sort((a, b) => a.start - b.start);
  return {
    mood: input.mood,
    profile,
    sampleRate: input.sampleRate,
    totalFrames,
    timeline,
    slots,
    sceneStarts,
    layerEntries,
    events: fitted,
  };
}

interface Ctx {
  profile: MoodProfile;
  timeline: Timeline;
  slots: ChordSlot[];
  sr: number;
  entryBeat: (layer: Layer) => number | null;
  rng: (layer: string) => () => number;
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

function enterLayers(sceneStarts: readonly number[], timeline: Timeline): Record<Layer, number | null> {
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

const frame = (ctx: Ctx, seconds: number): number => Math.round(seconds * ctx.sr);
const beatTime = (ctx: Ctx, beat: number): number => beat * ctx.timeline.beatSeconds;
const seedFrom = (rng: () => number): number => Math.floor(rng() * 4294967296) >>> 0;
/** 0.75–1 over the piece: everything gets a little louder as the tour goes on. */
const dynamics = (ctx: Ctx, seconds: number): number => 0.75 + 0.25 * intensityAt(ctx.timeline, seconds);

/** The moment the final chord stops being held and starts to ring out, and where it must be silent. */
function ending(ctx: Ctx): { ringStart: number; silentAt: number } {
  const { totalSeconds, cadenceSeconds } = ctx.timeline;
  const silentAt = totalSeconds - Math.min(0.25, totalSeconds * 0.05);
  const ringStart = Math.max(
    cadenceSeconds + Math.min(0.5, ctx.timeline.tailSeconds * 0.25),
    totalSeconds - 2.05,
  );
  return { ringStart, silentAt };
}

function padEvents(ctx: Ctx): NoteEvent[] {
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

function bassEvents(ctx: Ctx): NoteEvent[] {
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

function arpEvents(ctx: Ctx): NoteEvent[] {
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
function melodyEvents(ctx: Ctx): NoteEvent[] {
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

function percussionEvents(ctx: Ctx): NoteEvent[] {
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

/** Trims any note that would still sound at the very end (releases first), so the track ends silent. */
function fitInside(events: NoteEvent[], totalFrames: number, margin: number): NoteEvent[] {
  const limit = totalFrames - margin;
  return events
    .filter((e) => e.start < limit - 2)
    .map((e) => {
      const over = e.start + e.gate + e.release - limit;
      if (over <= 0) return e;
      const release = Math.max(1, e.release - over);
      const gate = Math.max(1, limit - e.start - release);
      return { ...e, gate, release };
    });
}

function clamp(x: number, low: number, high: number): number {
  return Math.min(Math.max(x, low), high);
}
