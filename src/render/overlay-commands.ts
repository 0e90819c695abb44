/**
 * FFmpeg argv builders for what goes on screen, built like media/ffmpeg-commands.ts: pure
 * functions, every input behind `-protocol_whitelist file` and a `-format_whitelist`, paths as
 * `file:` URLs, output at the house encoding so every segment joins the others by stream copy.
 * The filters used (overlay, fade with alpha, zoompan, scale) exist in FFmpeg 4.1 and later.
 */
import {
  ALLOWED_DEMUXERS,
  args,
  even,
  fileInput,
  fileUrl,
  HOUSE_VIDEO,
  head,
  houseVideoCodecArgs,
  type NormaliseClipOptions,
  normaliseClipArgs,
  normaliseFilter,
  seconds,
} from "../media/ffmpeg-commands.js";

/** Our own overlay and background PNGs are read with the image2 demuxer only. */
const IMAGE_DEMUXERS = ["image2"] as const;

/** A looped still: `durationSeconds` of frames at `fps`. */
function stillInput(pngFile: string, fps: number, durationSeconds: number): string[] {
  return args`-f image2 -loop 1 -framerate ${fps} -t ${seconds(durationSeconds)} ${fileInput(pngFile, IMAGE_DEMUXERS)}`;
}

/** RGBA/RGB (sRGB, full range) → the house's BT.709 limited-range YUV, keeping alpha if asked. */
const toHouseYuv = (alpha: boolean) =>
  `scale=out_color_matrix=${HOUSE_VIDEO.colour}:out_range=tv,format=${alpha ? "yuva420p" : "yuv420p"}`;

export interface BurnLayer {
  /** RGBA PNG the size of the layer's box. */
  pngFile: string;
  /** Top-left corner in the frame. */
  x: number;
  y: number;
  /** Shown from `start` to `end`, seconds of the clip. */
  start: number;
  end: number;
  /** Fade in and out over this long (0: hard on/off). */
  fadeSeconds: number;
}

export interface BurnOverlaysOptions {
  /** A house-encoded clip. */
  inFile: string;
  outFile: string;
  layers: readonly BurnLayer[];
  /** Frames to encode from the clip's start: all of it, or a whole number of GOPs. */
  frames: number;
  fps?: number;
}

/**
 * The filter for one layer: its alpha faded in at `start` and out before `end` (either fade may
 * be 0), then converted for overlay on BT.709 YUV.
 */
export function layerFilter(window: { start: number; end: number; fadeIn: number; fadeOut: number }): string {
  const { start, end } = window;
  if (!(end > start && start >= 0)) throw new Error(`layer window is empty: ${start}…${end}`);
  const clamp = (value: number) => Math.min(Math.max(value, 0), (end - start) / 2);
  const fadeIn = clamp(window.fadeIn);
  const fadeOut = clamp(window.fadeOut);
  const fades: string[] = [];
  if (fadeIn > 0) fades.push(`fade=t=in:st=${seconds(start)}:d=${seconds(fadeIn)}:alpha=1`);
  if (fadeOut > 0) fades.push(`fade=t=out:st=${seconds(end - fadeOut)}:d=${seconds(fadeOut)}:alpha=1`);
  return ["format=rgba", ...fades, toHouseYuv(true)].join(",");
}

/**
 * The filter-graph chains that lay `layers` (inputs 1…n, looped stills) over the video labelled
 * `base`, each blended only while it is on screen (`enable`), so a caption of 1.5 s costs 1.5 s
 * of blending, not the clip's length. The result is labelled `[out]`.
 */
function overlayChains(base: string, layers: readonly BurnLayer[]): string[] {
  const chains: string[] = [];
  let current = base;
  layers.forEach((layer, index) => {
    const input = `[${index + 1}:v]`;
    const prepared = `[l${index}]`;
    const next = `[v${index}]`;
    const at = `x=${Math.round(layer.x)}:y=${Math.round(layer.y)}`;
    const fade = { fadeIn: layer.fadeSeconds, fadeOut: layer.fadeSeconds };
    chains.push(`${input}${layerFilter({ ...layer, ...fade })}${prepared}`);
    chains.push(
      `${current}${prepared}overlay=${at}:eof_action=pass:enable='between(t,${seconds(layer.start)},${seconds(layer.end)})'${next}`,
    );
    current = next;
  });
  chains.push(`${current}format=yuv420p[out]`);
  return chains;
}

const layerInputs = (layers: readonly BurnLayer[], fps: number): string[] =>
  layers.flatMap((layer) => stillInput(layer.pngFile, fps, layer.end));

/**
 * Burns timed overlay PNGs into the first `frames` frames of a clip and encodes them at the
 * house settings.
 */
export function burnOverlaysArgs(options: BurnOverlaysOptions): string[] {
  const fps = options.fps ?? HOUSE_VIDEO.fps;
  const { frames, layers } = options;
  if (!Number.isInteger(frames) || frames <= 0)
    throw new Error(`frames must be a positive integer: ${frames}`);
  if (layers.length === 0) throw new Error("nothing to burn: a clip without overlays is used as it is");
  const chains = overlayChains("[0:v]", layers);
  return args`${head()} ${fileInput(options.inFile, ALLOWED_DEMUXERS)} ${layerInputs(layers, fps)}
    -filter_complex ${chains.join(";")} -map [out] -frames:v ${frames} -an
    ${houseVideoCodecArgs(fps)} -f mp4 ${fileUrl(options.outFile)}`;
}

/**
 * A provider's clip normalised to the house encoding (normaliseClipArgs) with the overlays
 * burned in the same pass: the clip is decoded and encoded once, never twice.
 */
export function normaliseWithOverlaysArgs(
  options: NormaliseClipOptions & { layers: readonly BurnLayer[] },
): string[] {
  if (options.layers.length === 0) return normaliseClipArgs(options);
  const fps = options.fps ?? HOUSE_VIDEO.fps;
  const frames = Math.round(options.seconds * fps);
  const chains = [`[0:v]${normaliseFilter(options)}[base]`, ...overlayChains("[base]", options.layers)];
  return args`${head()} ${fileInput(options.inFile, ALLOWED_DEMUXERS)} ${layerInputs(options.layers, fps)}
    -filter_complex ${chains.join(";")} -map [out] -frames:v ${frames} -an
    ${houseVideoCodecArgs(fps)} -f mp4 ${fileUrl(options.outFile)}`;
}

/** One entry of a cut's concat script. */
export interface CutListEntry {
  file: string;
  /** Start this far into the file — a keyframe (house clips have one every GOP). */
  inpoint?: number;
  /** How long the entry plays. */
  duration: number;
}

/**
 * The concat script of a cut. A clip's tail after its burned head is the source clip itself
 * from the GOP boundary (`inpoint`): no encode, not even a copy. Every entry states its
 * duration, so the join does not depend on how each FFmpeg version reads container durations
 * (FFmpeg 4.1 reads a stream-copied tail as its source's full length).
 */
export function cutListContent(entries: readonly CutListEntry[]): string {
  const lines = ["ffconcat version 1.0"];
  for (const entry of entries) {
    fileUrl(entry.file); // validates: absolute, no control characters
    lines.push(`file '${entry.file.replaceAll("'", "'\\''")}'`);
    if (entry.inpoint !== undefined) lines.push(`inpoint ${seconds(entry.inpoint)}`);
    if (!(entry.duration > 0)) throw new Error(`duration must be positive: ${entry.duration}`);
    lines.push(`duration ${seconds(entry.duration)}`);
  }
  return `${lines.join("\n")}\n`;
}

/** One outro card and the clip it goes into. */
export interface OutroCard {
  /** The card PNG and where it sits. */
  cardFile: string;
  cardX: number;
  cardY: number;
  outFile: string;
}

export interface OutroClipOptions {
  /**
   * The blurred, dimmed last photo (overlay-raster.ts outroBackground): half the frame's size
   * and a little larger, since a blurred image loses nothing at half resolution and the push
   * then costs a quarter of the pixels.
   */
  backgroundFile: string;
  /** One clip per card (the branded and the unbranded cut's), over the same push. */
  cards: readonly OutroCard[];
  width: number;
  height: number;
  seconds: number;
  fps?: number;
  /** Zoom reached at the end of the slow push (1.06: 6 % closer). */
  endZoom?: number;
}

/** zoompan works at half the frame size (even numbers), then one bilinear upscale. */
export const halfEven = (value: number): number => Math.max(2, Math.round(value / 4) * 2);

/**
 * The outro as short clips, one per card, from one FFmpeg run: a slow push into the background
 * still, the card on top from the first frame (an end card; one decoded frame, blended each
 * frame — a fade would mean converting the card every frame, which doubled the outro's cost),
 * house encoding.
 *
 * The background is decoded once and converted to YUV at half size once: zoompan makes every
 * frame of the push from that one picture (`d`), and the push is split between the cards. (A
 * looped still input decodes its PNG again for every frame and converted each RGB frame at full
 * size: measured 3.6 CPU-s for a 3.5 s 1080p outro, 1.9 s this way; the two cuts' outros in one
 * run 3.5 CPU-s instead of 4.8 in two.)
 */
export function outroClipArgs(options: OutroClipOptions): string[] {
  const fps = options.fps ?? HOUSE_VIDEO.fps;
  const width = even(options.width, "width");
  const height = even(options.height, "height");
  if (!(options.seconds > 0)) throw new Error(`seconds must be positive: ${options.seconds}`);
  const { cards } = options;
  if (cards.length === 0) throw new Error("an outro needs a card");
  const frames = Math.round(options.seconds * fps);
  const endZoom = options.endZoom ?? 1.06;
  if (!(endZoom >= 1 && endZoom <= 1.5)) throw new Error(`implausible zoom: ${endZoom}`);
  const step = ((endZoom - 1) / Math.max(1, frames - 1)).toFixed(7);
  // zoompan's whole-pixel steps are invisible on a blurred background
  const push = [
    toHouseYuv(false),
    `zoompan=z='1+${step}*on':x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)':d=${frames}:s=${halfEven(width)}x${halfEven(height)}:fps=${fps}`,
    `scale=${width}:${height}:flags=bilinear`,
    "setsar=1",
  ].join(",");
  const backgrounds = cards.map((_, index) => `[bg${index}]`);
  const graph = [
    cards.length === 1 ? `[0:v]${push}[bg0]` : `[0:v]${push},split=${cards.length}${backgrounds.join("")}`,
    ...cards.flatMap((card, index) => [
      `[${index + 1}:v]format=rgba,${toHouseYuv(true)}[card${index}]`,
      `[bg${index}][card${index}]overlay=x=${Math.round(card.cardX)}:y=${Math.round(card.cardY)}:eof_action=repeat,format=yuv420p[out${index}]`,
    ]),
  ].join(";");
  const cardInputs = cards.flatMap((card) => args`-f image2 ${fileInput(card.cardFile, IMAGE_DEMUXERS)}`);
  const outputs = cards.flatMap(
    (card, index) => args`-map ${`[out${index}]`} -frames:v ${frames} -an ${houseVideoCodecArgs(fps)}
      -f mp4 ${fileUrl(card.outFile)}`,
  );
  return args`${head()} -f image2 ${fileInput(options.backgroundFile, IMAGE_DEMUXERS)} ${cardInputs}
    -filter_complex ${graph} ${outputs}`;
}
