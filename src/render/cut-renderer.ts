/**
 * Carries out a composition plan: renders each distinct overlay once (PNG), burns the shared
 * overlays into the clips that carry them, renders the outro per cut, and writes each cut's
 * concat script (untouched clips and clip tails are referenced, not copied). What it returns is what assembly joins by stream copy (and the
 * WebVTT captions of each cut). Every FFmpeg run goes through the one runner, with a timeout and
 * the caller's abort signal; all files land in `workDir` (the caller's temp dir).
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "../logger.js";
import { runFfmpeg } from "../media/ffmpeg.runner.js";
import {
  type CompositionPlan,
  CUTS,
  type OverlayRef,
  overlayKey,
  type PlannedSegment,
} from "./composition-plan.js";
import { drawLayersHere, type LayerDrawer } from "./layer-drawing.js";
import type { Cut } from "./outro-card.js";
import { burnOverlaysArgs, type CutListEntry, cutListContent, outroClipArgs } from "./overlay-commands.js";
import { captionLayer, disclosureLayer, type OverlayLayer, titleLayer } from "./overlay-layers.js";
import { outroBackground, rasteriseLayer } from "./overlay-raster.js";
import type { OverlaySpec } from "./overlay-spec.js";
import { FRAME_SIZE } from "./render-formats.js";
import { buildWebVtt, type CaptionCue } from "./webvtt.js";

export interface RenderCutsOptions {
  ffmpeg: string;
  workDir: string;
  /** The photo the outro pushes into (usually the last scene's last frame photo). */
  outroPhoto: Buffer | string;
  /** Wall-clock limit per FFmpeg run. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** FFmpeg runs at once (each is multi-threaded already). */
  concurrency?: number;
  logger?: Logger;
  /**
   * What the clips themselves show (overlays burned when they were rendered), on the video's
   * timeline: added to both cuts' captions tracks.
   */
  clipCues?: readonly CaptionCue[];
  /** Where layers are drawn (the pipeline: a media thread); default in this thread. */
  drawLayers?: LayerDrawer;
}

export interface RenderedCut {
  /** What plays, in order: files, with an in-point for a clip's tail. */
  entries: CutListEntry[];
  /** Concat script of the entries (for concatCopyArgs / muxCopyArgs). */
  listFile: string;
  /** WebVTT of the cut's overlays. */
  captions: string;
}

export interface RenderedCuts {
  cuts: Record<Cut, RenderedCut>;
  /** Wall time spent per segment kind, ms (what the overlays cost). */
  timingsMs: { layers: number; burn: number; outro: number };
}

interface PlacedLayer {
  layer: OverlayLayer;
  pngFile: string;
}

async function placeLayer(workDir: string, name: string, layer: OverlayLayer): Promise<PlacedLayer> {
  const pngFile = path.join(workDir, `${name}.png`);
  await writeFile(pngFile, await rasteriseLayer(layer));
  return { layer, pngFile };
}

/** Runs `tasks` with at most `limit` at once; the first failure rejects (the others still settle). */
async function inParallel(tasks: Array<() => Promise<void>>, limit: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) await tasks[next++]!();
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, tasks.length)) }, worker));
}

export async function renderCuts(
  plan: CompositionPlan,
  spec: OverlaySpec,
  options: RenderCutsOptions,
): Promise<RenderedCuts> {
  const { workDir } = options;
  const run = (argv: string[]) =>
    runFfmpeg(options.ffmpeg, argv, {
      timeoutMs: options.timeoutMs ?? 180_000,
      signal: options.signal,
      logger: options.logger,
    });
  const timings = { layers: 0, burn: 0, outro: 0 };
  const time = async (kind: keyof typeof timings, fn: () => Promise<unknown>) => {
    const started = performance.now();
    await fn();
    timings[kind] += performance.now() - started;
  };

  // 1. every distinct overlay once, drawn together (off the event loop when a drawer is given)
  const placed = new Map<string, PlacedLayer>();
  const outros = new Map<string, PlacedLayer>();
  await time("layers", async () => {
    const refs = new Map<string, OverlayRef>();
    const outroCuts = new Map<string, { cut: Cut; name: string }>();
    for (const segment of plan.segments) {
      if (segment.kind === "burn") {
        for (const { ref } of segment.layers) refs.set(overlayKey(ref), ref);
      } else if (segment.kind === "outro") {
        outroCuts.set(segment.id, {
          cut: segment.cut === "shared" ? "unbranded" : segment.cut,
          name: `card-${segment.cut}`,
        });
      }
    }
    const draw = options.drawLayers ?? drawLayersHere;
    const cards = [...outroCuts.entries()];
    const drawn = await draw({ spec, refs: [...refs.values()], outros: cards.map(([, card]) => card.cut) });
    let count = 0;
    for (const [index, key] of [...refs.keys()].entries())
      placed.set(key, await placeLayer(workDir, `layer-${count++}`, drawn.layers[index]!));
    for (const [index, [id, card]] of cards.entries())
      outros.set(id, await placeLayer(workDir, card.name, drawn.outros[index]!));
  });

  // 2. segments: burns and outros are encoded; clips and tails are referenced as they are
  const entries = new Map<string, CutListEntry>();
  const background = path.join(workDir, "outro-background.png");
  if (outros.size > 0) await writeFile(background, await outroBackground(options.outroPhoto, spec.format));
  const { width, height } = FRAME_SIZE[spec.format];
  // The outros (one per cut, or one shared) come from one FFmpeg run over one background push.
  const outroSegments = plan.segments.filter((segment) => segment.kind === "outro");
  const outroTask = async () => {
    const cards = outroSegments.map((segment) => {
      const { layer, pngFile } = outros.get(segment.id)!;
      return {
        cardFile: pngFile,
        cardX: layer.box.x,
        cardY: layer.box.y,
        outFile: path.join(workDir, `${segment.id}.mp4`),
      };
    });
    const argv = outroClipArgs({
      backgroundFile: background,
      cards,
      width,
      height,
      seconds: outroSegments[0]!.seconds,
      fps: plan.fps,
    });
    await time("outro", () => run(argv));
    outroSegments.forEach((segment, index) => {
      entries.set(segment.id, { file: cards[index]!.outFile, duration: segment.seconds });
    });
  };
  const segmentTasks = plan.segments.map((segment: PlannedSegment) => async () => {
    const outFile = path.join(workDir, `${segment.id}.mp4`);
    switch (segment.kind) {
      case "clip":
        entries.set(segment.id, { file: segment.file, duration: segment.seconds });
        return;
      case "tail":
        entries.set(segment.id, {
          file: segment.inFile,
          inpoint: segment.fromSeconds,
          duration: segment.seconds,
        });
        return;
      case "burn": {
        const layers = segment.layers.map((planned) => {
          const { layer, pngFile } = placed.get(overlayKey(planned.ref))!;
          return {
            pngFile,
            x: layer.box.x,
            y: layer.box.y,
            start: planned.start,
            end: planned.end,
            fadeSeconds: planned.fadeSeconds,
          };
        });
        const argv = burnOverlaysArgs({
          inFile: segment.inFile,
          outFile,
          layers,
          frames: segment.frames,
          fps: plan.fps,
        });
        await time("burn", () => run(argv));
        break;
      }
      case "outro":
        return; // outroTask makes the outros, all in one run
    }
    entries.set(segment.id, { file: outFile, duration: segment.seconds });
  });
  const tasks = outroSegments.length > 0 ? [outroTask, ...segmentTasks] : segmentTasks;
  await inParallel(tasks, options.concurrency ?? 2);

  // 3. per cut: the list to join, and its captions
  const layerText = (ref: OverlayRef) => placed.get(overlayKey(ref))?.layer.text ?? [];
  const cuts = {} as Record<Cut, RenderedCut>;
  for (const cut of CUTS) {
    const cutEntries = plan.cuts[cut].map((id) => entries.get(id)!);
    const listFile = path.join(workDir, `${cut}.ffconcat`);
    await writeFile(listFile, cutListContent(cutEntries));
    const cues: CaptionCue[] = plan.timeline[cut].map((item) => ({
      start: item.start,
      end: item.end,
      lines:
        item.ref.kind === "outro"
          ? (outros.get(`outro-${item.ref.cut}`) ?? outros.get("outro-shared"))!.layer.text
          : layerText(item.ref),
    }));
    cuts[cut] = {
      entries: cutEntries,
      listFile,
      captions: buildWebVtt([...(options.clipCues ?? []), ...cues]),
    };
  }
  return { cuts, timingsMs: timings };
}

/** The layer an overlay reference shows (the scene job rasterises these for the renderer too). */
export function layerFor(spec: OverlaySpec, ref: OverlayRef): OverlayLayer {
  switch (ref.kind) {
    case "title":
      return titleLayer(spec);
    case "caption":
      return captionLayer(spec, ref.text);
    case "disclosure":
      return disclosureLayer(spec);
  }
}
