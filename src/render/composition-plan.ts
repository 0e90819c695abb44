/**
 * How the overlays are composed into the two cuts of a video, as data (pure, unit-tested).
 *
 * The branded and the unbranded cut differ only in the outro, so:
 * - a clip that carries no overlay is used as it is, in both cuts (never re-encoded);
 * - the overlays both cuts share (title, room captions, AI disclosure) are burned once into the
 *   clips that carry them, and only into the GOPs they touch: house clips have a keyframe every
 *   2 s, so a caption that ends by 2 s costs a 2 s encode and the rest of the clip is the
 *   source itself, from that keyframe (an `inpoint` in the concat script: no encode, no copy);
 * - the outro is its own short clip, rendered once per cut (once in all when there is no agent,
 *   logo or listing URL, as both cuts then show the same card);
 * - each cut is then a stream-copy concat of its segment list.
 */

import type { RoomType, SceneType } from "../domain/vocabulary.js";
import { HOUSE_VIDEO } from "../media/ffmpeg-commands.js";
import { roomCaption } from "./listing-format.js";
import type { Cut } from "./outro-card.js";

export const CUTS = ["branded", "unbranded"] as const satisfies readonly Cut[];

export interface SceneClip {
  index: number;
  /** The scene's house-encoded clip. */
  clipFile: string;
  seconds: number;
  sceneType: SceneType;
  /** The photo's room type, for a finer caption ("Pool"). */
  roomType?: RoomType | null;
  /** Overrides the caption; null shows none. */
  caption?: string | null;
  /** The clip comes from a generative video model: the disclosure label is shown on it. */
  aiGenerated: boolean;
}

export interface CompositionOptions {
  fps?: number;
  /** Seconds of the video the title is on screen (from 0, within the first scene). */
  titleSeconds?: number;
  /** Room captions on every scene but the first (which has the title). */
  captions?: boolean;
  /** When a caption shows within its scene; ends by the first GOP boundary so only 2 s are re-encoded. */
  captionWindow?: { start: number; end: number };
  fadeSeconds?: number;
  outroSeconds?: number;
  /** Seconds between keyframes of the input clips (house clips: 2); Infinity burns whole clips. */
  gopSeconds?: number;
  /** The branded outro differs from the unbranded one (outro-card.ts hasBrandedOutro). */
  brandedOutro: boolean;
}

export type OverlayRef = { kind: "title" } | { kind: "caption"; text: string } | { kind: "disclosure" };

/** An overlay within a clip (seconds from the clip's start). */
export interface PlannedLayer {
  ref: OverlayRef;
  start: number;
  end: number;
  fadeSeconds: number;
}

export type PlannedSegment =
  | { id: string; kind: "clip"; sceneIndex: number; file: string; seconds: number }
  | {
      id: string;
      kind: "burn";
      sceneIndex: number;
      inFile: string;
      frames: number;
      seconds: number;
      layers: PlannedLayer[];
    }
  | { id: string; kind: "tail"; sceneIndex: number; inFile: string; fromSeconds: number; seconds: number }
  | { id: string; kind: "outro"; cut: Cut | "shared"; seconds: number };

/** An overlay on the video's timeline (for the captions file). */
export interface TimedOverlay {
  ref: OverlayRef | { kind: "outro"; cut: Cut };
  start: number;
  end: number;
}

export interface CompositionPlan {
  fps: number;
  /** Every segment to produce or reuse, each once. */
  segments: PlannedSegment[];
  /** Segment ids in play order, per cut. */
  cuts: Record<Cut, string[]>;
  timeline: Record<Cut, TimedOverlay[]>;
  durationSeconds: number;
  /**
   * What the overlays cost, in seconds of video: encoded by burning and by outros; reused as
   * they are (clip tails after a burned head, clips without overlays).
   */
  encodedSeconds: { burn: number; outro: number; reusedTail: number; untouched: number };
}

export const DEFAULT_COMPOSITION = Object.freeze({
  titleSeconds: 3,
  captions: true,
  captionWindow: Object.freeze({ start: 0.4, end: 1.9 }),
  fadeSeconds: 0.3,
  outroSeconds: 3,
});

/** What decides a scene's shared overlays. */
export type SceneLayerInput = Pick<
  SceneClip,
  "seconds" | "sceneType" | "roomType" | "caption" | "aiGenerated"
>;

export type LayerOptions = Pick<
  CompositionOptions,
  "titleSeconds" | "captions" | "captionWindow" | "fadeSeconds"
>;

/**
 * The overlays both cuts share on the scene at `position` in the video (0: the title; later
 * ones: the room caption), and the AI disclosure on a generated scene — exactly as
 * planComposition places them. A renderer that makes the clip's frames carries these in its
 * one encode (the pipeline does), so the clip needs no burn afterwards.
 */
export function sceneLayers(
  scene: SceneLayerInput,
  position: number,
  options: LayerOptions = {},
): PlannedLayer[] {
  return layersFor(scene, position, {
    titleSeconds: options.titleSeconds ?? DEFAULT_COMPOSITION.titleSeconds,
    captions: options.captions ?? DEFAULT_COMPOSITION.captions,
    captionWindow: options.captionWindow ?? DEFAULT_COMPOSITION.captionWindow,
    fadeSeconds: options.fadeSeconds ?? DEFAULT_COMPOSITION.fadeSeconds,
  });
}

function layersFor(
  scene: SceneLayerInput,
  position: number,
  options: Required<LayerOptions>,
): PlannedLayer[] {
  const layers: PlannedLayer[] = [];
  const fade = options.fadeSeconds;
  if (scene.aiGenerated)
    layers.push({ ref: { kind: "disclosure" }, start: 0, end: scene.seconds, fadeSeconds: 0 });
  if (position === 0 && options.titleSeconds > 0) {
    layers.push({
      ref: { kind: "title" },
      start: 0,
      end: Math.min(options.titleSeconds, scene.seconds),
      fadeSeconds: fade,
    });
  } else if (options.captions) {
    const text = scene.caption === undefined ? roomCaption(scene.sceneType, scene.roomType) : scene.caption;
    const end = Math.min(options.captionWindow.end, scene.seconds);
    if (text && end > options.captionWindow.start) {
      layers.push({
        ref: { kind: "caption", text },
        start: options.captionWindow.start,
        end,
        fadeSeconds: fade,
      });
    }
  }
  return layers;
}

export function planComposition(scenes: readonly SceneClip[], options: CompositionOptions): CompositionPlan {
  if (scenes.length === 0) throw new Error("a video needs at least one scene");
  const fps = options.fps ?? HOUSE_VIDEO.fps;
  const settings = {
    fps,
    titleSeconds: options.titleSeconds ?? DEFAULT_COMPOSITION.titleSeconds,
    captions: options.captions ?? DEFAULT_COMPOSITION.captions,
    captionWindow: options.captionWindow ?? DEFAULT_COMPOSITION.captionWindow,
    fadeSeconds: options.fadeSeconds ?? DEFAULT_COMPOSITION.fadeSeconds,
    outroSeconds: options.outroSeconds ?? DEFAULT_COMPOSITION.outroSeconds,
    gopSeconds: options.gopSeconds ?? HOUSE_VIDEO.gop / HOUSE_VIDEO.fps,
  };
  const segments: PlannedSegment[] = [];
  const shared: string[] = [];
  const timeline: TimedOverlay[] = [];
  const encoded = { burn: 0, outro: 0, reusedTail: 0, untouched: 0 };
  let clock = 0;
  const ordered = [...scenes].sort((a, b) => a.index - b.index);
  ordered.forEach((scene, position) => {
    const layers = layersFor(scene, position, settings);
    const totalFrames = Math.round(scene.seconds * fps);
    for (const layer of layers)
      timeline.push({ ref: layer.ref, start: clock + layer.start, end: clock + layer.end });
    if (layers.length === 0) {
      segments.push({
        id: `scene-${scene.index}`,
        kind: "clip",
        sceneIndex: scene.index,
        file: scene.clipFile,
        seconds: scene.seconds,
      });
      shared.push(`scene-${scene.index}`);
      encoded.untouched += scene.seconds;
    } else {
      const lastEnd = Math.max(...layers.map((layer) => layer.end));
      const gopFrames = Math.round(settings.gopSeconds * fps);
      const burnFrames = Number.isFinite(settings.gopSeconds)
        ? Math.min(totalFrames, Math.ceil((lastEnd * fps) / gopFrames) * gopFrames)
        : totalFrames;
      const burnSeconds = burnFrames / fps;
      segments.push({
        id: `scene-${scene.index}-burn`,
        kind: "burn",
        sceneIndex: scene.index,
        inFile: scene.clipFile,
        frames: burnFrames,
        seconds: burnSeconds,
        layers,
      });
      shared.push(`scene-${scene.index}-burn`);
      encoded.burn += burnSeconds;
      if (burnFrames < totalFrames) {
        const tailSeconds = (totalFrames - burnFrames) / fps;
        segments.push({
          id: `scene-${scene.index}-tail`,
          kind: "tail",
          sceneIndex: scene.index,
          inFile: scene.clipFile,
          fromSeconds: burnSeconds,
          seconds: tailSeconds,
        });
        shared.push(`scene-${scene.index}-tail`);
        encoded.reusedTail += tailSeconds;
      }
    }
    clock += totalFrames / fps;
  });

  const outroSeconds = Math.round(settings.outroSeconds * fps) / fps;
  const cuts = { branded: [...shared], unbranded: [...shared] } as Record<Cut, string[]>;
  const timelines = { branded: [...timeline], unbranded: [...timeline] } as Record<Cut, TimedOverlay[]>;
  if (outroSeconds > 0) {
    const outroCuts: Array<Cut | "shared"> = options.brandedOutro ? ["branded", "unbranded"] : ["shared"];
    for (const cut of outroCuts) {
      segments.push({ id: `outro-${cut}`, kind: "outro", cut, seconds: outroSeconds });
      encoded.outro += outroSeconds;
    }
    for (const cut of CUTS) {
      cuts[cut].push(options.brandedOutro ? `outro-${cut}` : "outro-shared");
      timelines[cut].push({ ref: { kind: "outro", cut }, start: clock, end: clock + outroSeconds });
    }
  }
  return {
    fps,
    segments,
    cuts,
    timeline: timelines,
    durationSeconds: clock + outroSeconds,
    encodedSeconds: encoded,
  };
}

/**
 * The plan for clips that already carry their shared overlays (burned in the encode each clip
 * got anyway): every clip is used as it is, and only the outro is rendered, per cut.
 */
export function planOutroCuts(
  clips: readonly Omit<SceneClip, "aiGenerated" | "caption">[],
  options: Pick<CompositionOptions, "brandedOutro" | "outroSeconds" | "fps">,
): CompositionPlan {
  return planComposition(
    clips.map((clip) => ({ ...clip, aiGenerated: false, caption: null })),
    { ...options, titleSeconds: 0, captions: false },
  );
}

/** A stable key for an overlay, so each distinct PNG is rendered once. */
export function overlayKey(ref: OverlayRef): string {
  return ref.kind === "caption" ? `caption:${ref.text}` : ref.kind;
}
