/**
 * Pure music theory for the embedded score: what each mood sounds like (key, mode, tempo,
 * progression, instruments, space) and how chords become smoothly voice-led MIDI notes.
 * No audio here — the composer turns these facts into note events, the synth plays them.
 */
import type { MusicMood } from "../../domain/vocabulary.js";
import type { InstrumentKind } from "./note-event.js";

export type Mode = "major" | "minor";

export const SCALE_STEPS: Record<Mode, readonly number[]> = {
  major: [0, 2, 4, 5, 7, 9, 11],
  minor: [0, 2, 3, 5, 7, 8, 10],
};

/** Pentatonic subsets: melodies drawn from them have no avoid-notes over the diatonic chords. */
export const MELODY_STEPS: Record<Mode, readonly number[]> = {
  major: [0, 2, 4, 7, 9],
  minor: [0, 3, 5, 7, 10],
};

/** Intervals above the chord root, root first. */
export const CHORD_INTERVALS = {
  maj: [0, 4, 7],
  add9: [0, 4, 7, 14],
  maj7: [0, 4, 7, 11],
  maj9: [0, 4, 7, 11, 14],
  min: [0, 3, 7],
  madd9: [0, 3, 7, 14],
  m7: [0, 3, 7, 10],
  m9: [0, 3, 7, 10, 14],
  dom7: [0, 4, 7, 10],
  dom9: [0, 4, 7, 10, 14],
  sus4: [0, 5, 7],
  "7sus4": [0, 5, 7, 10],
  "9sus4": [0, 5, 7, 10, 14],
} as const satisfies Record<string, readonly number[]>;
export type ChordQuality = keyof typeof CHORD_INTERVALS;

/** A chord as a scale degree (1–7, of the mood's mode) and a quality. */
export interface Chord {
  degree: number;
  quality: ChordQuality;
}

export type ArpStyle = "rolling" | "pulse16" | "fingerpick" | "offbeat" | "sparse";
export type BassStyle = "sustain" | "root-fifth" | "pulse";
export type PercussionStyle = "none" | "soft" | "pulse" | "acoustic" | "pop";

export interface MoodProfile {
  mood: MusicMood;
  /** Pitch class of the key's tonic, 0 = C. */
  tonic: number;
  mode: Mode;
  bpm: number;
  /** The loop the body of the track cycles through, one chord per bar. */
  progression: readonly Chord[];
  /** approach → cadential → tonic closes the track (V–I authentic or IV–I plagal). */
  cadence: { approach: Chord; cadential: Chord; tonic: Chord; kind: "authentic" | "plagal" };
  pad: {
    cutoffLowHz: number;
    cutoffHighHz: number;
    detuneCents: number;
    attackSeconds: number;
    level: number;
  };
  arp: { instrument: InstrumentKind; style: ArpStyle; level: number };
  bass: { style: BassStyle; level: number };
  /** centre: MIDI note the melody hovers around; density: share of motif notes kept. */
  melody: { instrument: InstrumentKind; centre: number; level: number; density: number };
  percussion: PercussionStyle;
  space: {
    roomSize: number;
    damping: number;
    reverbSend: number;
    delayBeats: number;
    delayFeedback: number;
    delaySend: number;
  };
  /** Depth of the per-beat "sidechain" dip on the pad once the bass is in; 0 = none. */
  pump: number;
  /** Master gain trim so every mood lands near the same loudness. */
  gain: number;
}

const c = (degree: number, quality: ChordQuality): Chord => ({ degree, quality });

const PROFILES: Record<MusicMood, MoodProfile> = {
  LUXURY: {
    mood: "LUXURY",
    tonic: 3,
    mode: "major",
    bpm: 72,
    progression: [c(1, "maj9"), c(6, "m9"), c(4, "maj9"), c(5, "9sus4")],
    cadence: { approach: c(2, "m9"), cadential: c(5, "dom9"), tonic: c(1, "maj9"), kind: "authentic" },
    pad: { cutoffLowHz: 1100, cutoffHighHz: 3400, detuneCents: 9, attackSeconds: 1.2, level: 0.8 },
    arp: { instrument: "keys", style: "rolling", level: 0.6 },
    bass: { style: "sustain", level: 0.8 },
    melody: { instrument: "keys", centre: 79, level: 0.5, density: 0.85 },
    percussion: "soft",
    space: {
      roomSize: 0.86,
      damping: 0.35,
      reverbSend: 0.4,
      delayBeats: 0.75,
      delayFeedback: 0.35,
      delaySend: 0.22,
    },
    pump: 0,
    gain: 1.05,
  },
  MODERN: {
    mood: "MODERN",
    tonic: 9,
    mode: "minor",
    bpm: 100,
    progression: [c(1, "m9"), c(6, "maj7"), c(3, "add9"), c(7, "add9")],
    cadence: { approach: c(6, "maj7"), cadential: c(4, "m9"), tonic: c(1, "madd9"), kind: "plagal" },
    pad: { cutoffLowHz: 800, cutoffHighHz: 2800, detuneCents: 7, attackSeconds: 0.8, level: 0.8 },
    arp: { instrument: "synthPluck", style: "pulse16", level: 0.6 },
    bass: { style: "pulse", level: 0.7 },
    melody: { instrument: "bell", centre: 76, level: 0.55, density: 0.8 },
    percussion: "pulse",
    space: {
      roomSize: 0.8,
      damping: 0.45,
      reverbSend: 0.3,
      delayBeats: 0.75,
      delayFeedback: 0.4,
      delaySend: 0.25,
    },
    pump: 0.35,
    gain: 1.17,
  },
  WARM: {
    mood: "WARM",
    tonic: 7,
    mode: "major",
    bpm: 84,
    progression: [c(1, "add9"), c(3, "m7"), c(4, "maj7"), c(5, "7sus4")],
    cadence: { approach: c(4, "add9"), cadential: c(5, "dom7"), tonic: c(1, "add9"), kind: "authentic" },
    pad: { cutoffLowHz: 800, cutoffHighHz: 2400, detuneCents: 6, attackSeconds: 1, level: 0.75 },
    arp: { instrument: "pluck", style: "fingerpick", level: 0.85 },
    bass: { style: "root-fifth", level: 0.8 },
    melody: { instrument: "lead", centre: 74, level: 0.5, density: 0.85 },
    percussion: "acoustic",
    space: {
      roomSize: 0.82,
      damping: 0.5,
      reverbSend: 0.32,
      delayBeats: 0.5,
      delayFeedback: 0.25,
      delaySend: 0.1,
    },
    pump: 0,
    gain: 1.19,
  },
  UPBEAT: {
    mood: "UPBEAT",
    tonic: 2,
    mode: "major",
    bpm: 118,
    progression: [c(1, "add9"), c(5, "maj"), c(6, "m7"), c(4, "add9")],
    cadence: { approach: c(4, "add9"), cadential: c(5, "maj"), tonic: c(1, "add9"), kind: "authentic" },
    pad: { cutoffLowHz: 1500, cutoffHighHz: 4800, detuneCents: 10, attackSeconds: 0.4, level: 0.7 },
    arp: { instrument: "synthPluck", style: "offbeat", level: 0.65 },
    bass: { style: "pulse", level: 0.7 },
    melody: { instrument: "bell", centre: 79, level: 0.6, density: 0.9 },
    percussion: "pop",
    space: {
      roomSize: 0.75,
      damping: 0.4,
      reverbSend: 0.22,
      delayBeats: 0.75,
      delayFeedback: 0.3,
      delaySend: 0.15,
    },
    pump: 0.2,
    gain: 1.24,
  },
  CALM: {
    mood: "CALM",
    tonic: 5,
    mode: "major",
    bpm: 64,
    progression: [c(1, "maj9"), c(4, "maj9"), c(6, "m9"), c(4, "add9")],
    cadence: { approach: c(6, "m9"), cadential: c(4, "maj9"), tonic: c(1, "maj9"), kind: "plagal" },
    pad: { cutoffLowHz: 700, cutoffHighHz: 2000, detuneCents: 8, attackSeconds: 1.6, level: 0.85 },
    arp: { instrument: "bell", style: "sparse", level: 0.5 },
    bass: { style: "sustain", level: 0.7 },
    melody: { instrument: "keys", centre: 72, level: 0.55, density: 0.6 },
    percussion: "none",
    space: {
      roomSize: 0.9,
      damping: 0.3,
      reverbSend: 0.5,
      delayBeats: 1,
      delayFeedback: 0.4,
      delaySend: 0.2,
    },
    pump: 0,
    gain: 1.15,
  },
};

export function moodProfile(mood: MusicMood): MoodProfile {
  return PROFILES[mood];
}

/** Equal temperament, A4 (MIDI 69) = 440 Hz. */
export function midiToHz(midi: number): number {
  return 440 * 2 ** ((midi - 69) / 12);
}

const mod12 = (n: number): number => ((n % 12) + 12) % 12;

/** Pitch class of a chord's root in the given key. */
export function chordRootPc(tonic: number, mode: Mode, chord: Chord): number {
  return mod12(tonic + SCALE_STEPS[mode][(chord.degree - 1) % 7]);
}

/** The chord's pitch classes, root first, in interval order. */
export function chordPitchClasses(tonic: number, mode: Mode, chord: Chord): number[] {
  const root = chordRootPc(tonic, mode, chord);
  return CHORD_INTERVALS[chord.quality].map((interval) => mod12(root + interval));
}

const NOTE_NAMES = ["C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B"];

/** "Ebmaj9", "Am9", … — for logs and test messages. */
export function chordName(tonic: number, mode: Mode, chord: Chord): string {
  const quality = chord.quality === "maj" ? "" : chord.quality === "min" ? "m" : chord.quality;
  return `${NOTE_NAMES[chordRootPc(tonic, mode, chord)]}${quality.replace(/^dom/, "")}`;
}

/**
 * The pitch classes a pad voices: four of them. Five-note chords lose the fifth (it adds
 * nothing but mud) and triads double the root, so the texture keeps the same density.
 */
export function padPitchClasses(pcs: readonly number[]): number[] {
  let chosen = [...pcs];
  if (chosen.length > 4) chosen = chosen.filter((_, i) => i !== 2);
  if (chosen.length > 4) chosen = chosen.slice(1);
  while (chosen.length < 4) chosen.push(chosen[0]);
  return chosen;
}

export interface VoicingRange {
  low: number;
  high: number;
  /** Where a voicing with no predecessor should sit (mean MIDI note). */
  centre: number;
  /** Widest allowed distance between the outer voices, in semitones. */
  maxSpan: number;
}

export const PAD_RANGE: VoicingRange = { low: 52, high: 79, centre: 64, maxSpan: 19 };

/**
 * Places the pitch classes as MIDI notes closest to the previous voicing (smooth voice leading:
 * common tones stay, the rest move by the smallest steps), inside the range. Exhaustive search —
 * four voices over two octaves is at most a few hundred candidates.
 */
export function voiceLead(
  previous: readonly number[] | null,
  pcs: readonly number[],
  range: VoicingRange,
): number[] {
  const candidates = pcs.map((pc) => {
    const notes: number[] = [];
    for (let m = range.low; m <= range.high; m++) if (mod12(m) === pc) notes.push(m);
    return notes;
  });
  let best: number[] | null = null;
  let bestCost = Number.POSITIVE_INFINITY;
  const chosen: number[] = [];
  const visit = (i: number): void => {
    if (i === candidates.length) {
      const sorted = [...chosen].sort((a, b) => a - b);
      const span = sorted[sorted.length - 1] - sorted[0];
      // A second at the bottom of a pad sounds muddy, wide voicings sound thin, and a semitone
      // or minor ninth between any two voices (a major seventh under its root) grates.
      if (span > range.maxSpan || (sorted.length > 1 && sorted[1] - sorted[0] < 3)) return;
      if (sorted.some((a, j) => sorted.slice(j + 1).some((b) => b - a === 1 || b - a === 13))) return;
      const cost = voicingCost(previous, sorted, range.centre);
      if (cost < bestCost) {
        bestCost = cost;
        best = sorted;
      }
      return;
    }
    for (const note of candidates[i]) {
      if (chosen.includes(note)) continue;
      chosen.push(note);
      visit(i + 1);
      chosen.pop();
    }
  };
  visit(0);
  if (!best) throw new Error(`no voicing for pitch classes ${pcs.join(",")} in ${range.low}..${range.high}`);
  return best;
}

function voicingCost(previous: readonly number[] | null, notes: readonly number[], centre: number): number {
  const mean = notes.reduce((sum, n) => sum + n, 0) / notes.length;
  const drift = Math.abs(mean - centre);
  if (!previous || previous.length === 0) return drift;
  const nearest = (from: readonly number[], to: readonly number[]): number =>
    from.reduce((sum, a) => sum + Math.min(...to.map((b) => Math.abs(a - b))), 0);
  // Symmetric nearest-note distance copes with voicings of different sizes; the small drift term
  // keeps a long progression from creeping up or down the range.
  return nearest(notes, previous) + nearest(previous, notes) + 0.5 * drift;
}

/** The MIDI note with one of the pitch classes nearest to target (ties go down), within low..high. */
export function nearestPitch(pcs: readonly number[], target: number, low: number, high: number): number {
  let best = target;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (let m = low; m <= high; m++) {
    if (!pcs.includes(mod12(m))) continue;
    const distance = Math.abs(m - target);
    if (distance < bestDistance) {
      best = m;
      bestDistance = distance;
    }
  }
  return best;
}

/** Every MIDI note in low..high whose pitch class is tonic + one of steps, ascending. */
export function scalePool(tonic: number, steps: readonly number[], low: number, high: number): number[] {
  const pcs = steps.map((s) => mod12(tonic + s));
  const pool: number[] = [];
  for (let m = low; m <= high; m++) if (pcs.includes(mod12(m))) pool.push(m);
  return pool;
}

/** True when the note sits a semitone above a chord tone — the one clash a listener always hears. */
export function clashesWith(note: number, chordPcs: readonly number[]): boolean {
  return chordPcs.some((pc) => mod12(note - pc) === 1);
}

/** Bass register root for a chord: the octave of the root nearest to the previous bass note. */
export function bassNote(rootPc: number, previous: number | null): number {
  return nearestPitch([rootPc], previous ?? 42, 36, 49);
}
