/**
 * Overlays blended straight into raw BT.709 YUV 4:2:0 frames, for a renderer that produces its
 * own frames (the embedded provider pipes yuv420p into x264): the title, caption and disclosure
 * then ride on the one encode the clip gets anyway, instead of a second decode + encode
 * (burnOverlaysArgs). A layer is converted to YUV and premultiplied once; blending a frame
 * touches only the runs of pixels the layer covers, in integer arithmetic.
 */

import sharp from "../media/sharp.js";
import type { ClipOverlay } from "../providers/types.js";
import type { Rect } from "./render-formats.js";

export interface YuvLayer {
  /** Top-left in the frame, even (4:2:0 chroma sites). */
  x: number;
  y: number;
  width: number;
  height: number;
  /** Premultiplied planes: value × alpha / 255, at luma and chroma resolution. */
  luma: Uint16Array;
  cb: Uint16Array;
  cr: Uint16Array;
  /** Alpha 0…255 at luma resolution, and the mean of each 2×2 block at chroma resolution. */
  alpha: Uint8Array;
  alphaChroma: Uint8Array;
}

const KR = 0.2126;
const KB = 0.0722;
const KG = 1 - KR - KB;

/**
 * An RGBA image (sRGB, straight alpha) placed at (x, y) as a YUV layer. An odd x or y is moved
 * one pixel left/up so chroma samples line up; the box is clipped to the frame.
 */
export function prepareYuvLayer(
  rgba: Uint8Array,
  width: number,
  height: number,
  at: { x: number; y: number },
): YuvLayer {
  if (rgba.length !== width * height * 4) throw new Error("RGBA buffer does not match its size");
  const x = at.x - (at.x & 1);
  const y = at.y - (at.y & 1);
  const w = width + (width & 1);
  const h = height + (height & 1);
  const luma = new Uint16Array(w * h);
  const alpha = new Uint8Array(w * h);
  const cw = w / 2;
  const ch = h / 2;
  const cb = new Uint16Array(cw * ch);
  const cr = new Uint16Array(cw * ch);
  const alphaChroma = new Uint8Array(cw * ch);
  const sum = { cb: new Float64Array(cw * ch), cr: new Float64Array(cw * ch), a: new Float64Array(cw * ch) };
  for (let j = 0; j < height; j += 1) {
    for (let i = 0; i < width; i += 1) {
      const p = (j * width + i) * 4;
      const a = rgba[p + 3]!;
      if (a === 0) continue;
      const r = rgba[p]! / 255;
      const g = rgba[p + 1]! / 255;
      const b = rgba[p + 2]! / 255;
      const ey = KR * r + KG * g + KB * b;
      const q = j * w + i;
      alpha[q] = a;
      luma[q] = Math.round(((16 + 219 * ey) * a) / 255);
      const c = (j >> 1) * cw + (i >> 1);
      sum.cb[c]! += (128 + (224 * (b - ey)) / (2 * (1 - KB))) * a;
      sum.cr[c]! += (128 + (224 * (r - ey)) / (2 * (1 - KR))) * a;
      sum.a[c]! += a;
    }
  }
  for (let c = 0; c < cw * ch; c += 1) {
    const total = sum.a[c]!;
    if (total === 0) continue;
    const meanAlpha = total / 4;
    alphaChroma[c] = Math.round(meanAlpha);
    // premultiplied by the block's mean alpha: the colour is the alpha-weighted mean
    cb[c] = Math.round((sum.cb[c]! / total) * (meanAlpha / 255));
    cr[c] = Math.round((sum.cr[c]! / total) * (meanAlpha / 255));
  }
  return { x, y, width: w, height: h, luma, cb, cr, alpha, alphaChroma };
}

/** round(v × (255 − a) / 255) for every alpha a and value v, at index a × 256 + v. */
const KEEP = (() => {
  const table = new Uint8Array(256 * 256);
  for (let a = 0; a < 256; a += 1)
    for (let v = 0; v < 256; v += 1) table[a * 256 + v] = Math.round((v * (255 - a)) / 255);
  return table;
})();

/**
 * The runs of a plane where a layer's alpha is not 0: (row, first, end) triples, so that
 * blending never visits a transparent pixel (text is mostly air). Cached per alpha plane.
 */
const runsOf = new WeakMap<Uint8Array, Int32Array>();
function opaqueRuns(alphas: Uint8Array, width: number, height: number): Int32Array {
  const cached = runsOf.get(alphas);
  if (cached) return cached;
  const runs: number[] = [];
  for (let j = 0; j < height; j += 1) {
    const row = j * width;
    let i = 0;
    while (i < width) {
      while (i < width && alphas[row + i] === 0) i += 1;
      const first = i;
      while (i < width && alphas[row + i] !== 0) i += 1;
      if (i > first) runs.push(j, first, i);
    }
  }
  const packed = Int32Array.from(runs);
  runsOf.set(alphas, packed);
  return packed;
}

/**
 * One plane: out = in × (1 − α) + premultiplied value, with α and the value scaled by the
 * opacity (o256 = opacity × 256) — integer arithmetic and a lookup table, only over the runs
 * the layer covers, clipped to the frame.
 */
function blendPlane(
  frame: Uint8Array,
  plane: number,
  fw: number,
  fh: number,
  layer: { x: number; y: number; width: number; height: number; values: Uint16Array; alphas: Uint8Array },
  o256: number,
): void {
  const { x, y, width, height, values, alphas } = layer;
  const runs = opaqueRuns(alphas, width, height);
  for (let r = 0; r < runs.length; r += 3) {
    const j = runs[r]!;
    const fy = y + j;
    if (fy < 0 || fy >= fh) continue;
    const first = Math.max(runs[r + 1]!, -x);
    const end = Math.min(runs[r + 2]!, fw - x);
    const out = plane + fy * fw + x;
    const src = j * width;
    if (o256 === 256) {
      for (let i = first; i < end; i += 1) {
        const q = out + i;
        frame[q] = KEEP[(alphas[src + i]! << 8) | frame[q]!]! + values[src + i]!;
      }
    } else {
      for (let i = first; i < end; i += 1) {
        const q = out + i;
        const a = (alphas[src + i]! * o256) >> 8;
        frame[q] = KEEP[(a << 8) | frame[q]!]! + ((values[src + i]! * o256) >> 8);
      }
    }
  }
}

/**
 * Blends a layer into a yuv420p frame in place at `opacity` (0…1): out = in × (1 − αo) + layer × o.
 * Parts of the layer outside the frame are skipped.
 */
export function blendYuvLayer(
  frame: Uint8Array,
  frameWidth: number,
  frameHeight: number,
  layer: YuvLayer,
  opacity: number,
): void {
  const o256 = Math.round(Math.min(1, Math.max(0, opacity)) * 256);
  if (o256 === 0) return;
  const lumaSize = frameWidth * frameHeight;
  const fcw = frameWidth >> 1;
  const fch = frameHeight >> 1;
  if (frame.length < lumaSize + 2 * fcw * fch) throw new Error("frame buffer too small for yuv420p");
  const { x, y, width, height } = layer;
  blendPlane(
    frame,
    0,
    frameWidth,
    frameHeight,
    { x, y, width, height, values: layer.luma, alphas: layer.alpha },
    o256,
  );
  const chroma = { x: x / 2, y: y / 2, width: width / 2, height: height / 2, alphas: layer.alphaChroma };
  blendPlane(frame, lumaSize, fcw, fch, { ...chroma, values: layer.cb }, o256);
  blendPlane(frame, lumaSize + fcw * fch, fcw, fch, { ...chroma, values: layer.cr }, o256);
}

/** A layer's opacity at time `t` of its clip: the same fades as burnOverlaysArgs' filter. */
export function layerOpacityAt(
  t: number,
  window: { start: number; end: number; fadeSeconds: number },
): number {
  const { start, end } = window;
  if (t < start || t >= end) return 0;
  const fade = Math.min(Math.max(window.fadeSeconds, 0), (end - start) / 2);
  if (fade === 0) return 1;
  return Math.min(1, (t - start) / fade, (end - t) / fade);
}

/** A rasterised layer PNG (overlay-raster.ts) as a YUV layer at its box. */
export async function yuvLayerFromPng(png: Buffer, box: Pick<Rect, "x" | "y">): Promise<YuvLayer> {
  const { data, info } = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return prepareYuvLayer(
    new Uint8Array(data.buffer, data.byteOffset, data.length),
    info.width,
    info.height,
    box,
  );
}

/** A timed RGBA layer for a clip's frames: the render request's overlay. */
export type TimedLayerPng = ClipOverlay;

/** Blends a clip's overlays into its frame `index` (yuv420p, in place). */
export type FrameOverlayer = (frame: Uint8Array, index: number) => void;

/**
 * A clip's overlays ready for its frames: each layer converted to YUV once, then blended into
 * every frame of its window at that frame's opacity (time = index / fps), the same fades as
 * burnOverlaysArgs' filter. Null when there is nothing to blend.
 */
export async function prepareFrameOverlays(
  layers: readonly TimedLayerPng[] | undefined,
  frame: { width: number; height: number; fps: number },
): Promise<FrameOverlayer | null> {
  if (!layers?.length) return null;
  const prepared = await Promise.all(
    layers.map(async (layer) => ({
      yuv: await yuvLayerFromPng(
        Buffer.from(layer.png.buffer, layer.png.byteOffset, layer.png.length),
        layer,
      ),
      window: layer,
    })),
  );
  return (pixels, index) => {
    const t = index / frame.fps;
    for (const { yuv, window } of prepared) {
      blendYuvLayer(pixels, frame.width, frame.height, yuv, layerOpacityAt(t, window));
    }
  };
}
