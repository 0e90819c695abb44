/**
 * The vocabulary between the score composer and the synth: which instrument plays a note, on
 * which mix bus, when, how long and how loud. Times are in frames from the start of the track.
 */

export type InstrumentKind =
  | "pad"
  | "keys"
  | "pluck"
  | "synthPluck"
  | "bell"
  | "lead"
  | "bass"
  | "kick"
  | "hat"
  | "shaker"
  | "clap"
  | "cymbal";

export type BusId = "pad" | "bass" | "arp" | "lead" | "drums";
export const BUS_IDS: readonly BusId[] = ["pad", "bass", "arp", "lead", "drums"];

/** One note as the composer writes it; times in frames from the start of the track. */
export interface NoteEvent {
  kind: InstrumentKind;
  bus: BusId;
  start: number;
  /** Frames the note is held before its release begins. */
  gate: number;
  release: number;
  /** Overrides the instrument's attack, in frames (slow pad swells). */
  attack?: number;
  midi: number;
  velocity: number;
  /** -1 (left) .. 1 (right). */
  pan: number;
  seed: number;
  detuneCents?: number;
}
