/**
 * Arranges the embedded score. The whole video is one piece in one key and one pulse; the scenes
 * only decide when layers join (pad → + bass → + arpeggio → + melody → + light percussion), so the
 * music grows with the tour instead of restarting at every cut. The body is a whole number of
 * beats ending on a real cadence, and the final tonic chord rings out inside the requested length.
 * Pure: the same input gives the same events, down to the noise seeds.
 */

import type { MusicMood } from "../../domain/vocabulary.js";
import type { MusicSegment } from "../types.js";
import { type MoodProfile, moodProfile } from "./music-theory.js";
import type { NoteEvent } from "./note-event.js";
import { arpEvents, bassEvents, padEvents } from "./score-accompaniment.js";
import type { Ctx } from "./score-context.js";
import { melodyEvents } from "./score-melody.js";
import { percussionEvents } from "./score-percussion.js";
import {
  buildSlots,
  type ChordSlot,
  enterLayers,
  type Layer,
  planTimeline,
  type Timeline,
} from "./score-timeline.js";
import { createRng, hashString } from "./synth-dsp.js";

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
  const timeline = planTimeline(
    totalSeconds,
    profile.bpm,
    input.segments.map((s) => s.seconds),
  );
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
