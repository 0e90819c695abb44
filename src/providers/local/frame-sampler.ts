/**
 * The local renderer's pixel code: the part that runs in a media worker thread (see
 * src/workers/media.worker.ts), never on the main thread.
 *
 * - each decoded, prescaled photo (sRGB from sharp, see local-video.provider.ts) is converted
 *   once to BT.709 YUV 4:2:0 (1.5 bytes a pixel instead of 3), each source pixel stored with its
 *   right/lower neighbours in one 32-bit word, so a bilinear sample costs one load; FFmpeg then
 *   reads yuv420p and skips its own colour conversion;
 * - frames are sampled with a bilinear sampler at 1/128-pixel precision: every viewport position
 *   is honoured exactly, so slow moves glide instead of stair-stepping the way an integer crop
 *   (zoompan) does;
 * - both photos follow the same camera path (each over its own pixels) and are blended (same
 *   linear blend as in RGB) in a short dissolve at the middle of the clip, where the eased move
 *   glides at its steady speed: the motion carries the hand-over, and the double exposure lasts
 *   CROSSFADE_SECONDS (at most 0.6 s, issue 12), not a third of the clip.
 */
import { type CameraPath, type Size, type Viewport, viewportAt } from "./camera-move.js";

/** How long both photos are on screen together, centred on the middle of the clip. */
export const CROSSFADE_SECONDS = 0.5;
/** A short clip dissolves over at most this share of its length. */
const CROSSFADE_MAX_SHARE = 0.4;

/**
 * Blend weight of the last photo `seconds` into a clip whose last frame is at `clipSeconds`:
 * 0 before the dissolve, 1 after it, smoothstep between.
 */
export function crossfadeWeight(seconds: number, clipSeconds: number): number {
  const span = Math.min(CROSSFADE_SECONDS, clipSeconds * CROSSFADE_MAX_SHARE);
  if (!(span > 0)) return seconds < clipSeconds / 2 ? 0 : 1;
  const u = Math.min(1, Math.max(0, (seconds - (clipSeconds - span) / 2) / span));
  return u * u * (3 - 2 * u);
}

/**
 * One plane where each word packs a pixel with its right, lower and lower-right neighbours
 * (bytes: p, right, below, below-right; edges replicated), so a bilinear sample is one load.
 */
export interface QuadPlane {
  data: Int32Array;
  width: number;
  height: number;
}

export interface PreparedPhoto {
  y: QuadPlane;
  u: QuadPlane;
  v: QuadPlane;
  /** The camera path in this photo's luma-plane pixels. */
  path: CameraPath;
}

const BT709 = { kr: 0.2126, kb: 0.0722 };

/** sRGB → BT.709 limited-range Y'CbCr 4:2:0, as quad planes. */
export function rgbToQuadPlanes(rgb: Uint8Array, width: number, height: number): Omit<PreparedPhoto, "path"> {
  const { kr, kb } = BT709;
  const kg = 1 - kr - kb;
  const ys = 219 / 255;
  const cs = 224 / 255;
  const luma = new Uint8Array(width * height);
  for (let p = 0, q = 0; p < luma.length; p += 1, q += 3) {
    luma[p] = 16.5 + ys * (kr * rgb[q]! + kg * rgb[q + 1]! + kb * rgb[q + 2]!);
  }
  // chroma: each sample is the mean of a 2×2 block (centred siting)
  const cw = (width + 1) >> 1;
  const ch = (height + 1) >> 1;
  const cb = new Uint8Array(cw * ch);
  const cr = new Uint8Array(cw * ch);
  const cbR = (-kr / (2 * (1 - kb))) * cs;
  const cbG = (-kg / (2 * (1 - kb))) * cs;
  const crG = (-kg / (2 * (1 - kr))) * cs;
  const crB = (-kb / (2 * (1 - kr))) * cs;
  const half = 0.5 * cs;
  for (let j = 0; j < ch; j += 1) {
    const y0 = 2 * j;
    const y1 = Math.min(y0 + 1, height - 1);
    for (let i = 0; i < cw; i += 1) {
      const x0 = 2 * i;
      const x1 = Math.min(x0 + 1, width - 1);
      const a = (y0 * width + x0) * 3;
      const b = (y0 * width + x1) * 3;
      const c = (y1 * width + x0) * 3;
      const d = (y1 * width + x1) * 3;
      const r = (rgb[a]! + rgb[b]! + rgb[c]! + rgb[d]!) / 4;
      const g = (rgb[a + 1]! + rgb[b + 1]! + rgb[c + 1]! + rgb[d + 1]!) / 4;
      const bl = (rgb[a + 2]! + rgb[b + 2]! + rgb[c + 2]! + rgb[d + 2]!) / 4;
      cb[j * cw + i] = 128.5 + cbR * r + cbG * g + half * bl;
      cr[j * cw + i] = 128.5 + half * r + crG * g + crB * bl;
    }
  }
  return { y: toQuadPlane(luma, width, height), u: toQuadPlane(cb, cw, ch), v: toQuadPlane(cr, cw, ch) };
}

function toQuadPlane(plane: Uint8Array, width: number, height: number): QuadPlane {
  const data = new Int32Array(width * height);
  for (let y = 0; y < height; y += 1) {
    const row = y * width;
    const below = Math.min(y + 1, height - 1) * width;
    for (let x = 0; x < width; x += 1) {
      const right = Math.min(x + 1, width - 1);
      data[row + x] =
        plane[row + x]! |
        (plane[row + right]! << 8) |
        (plane[below + x]! << 16) |
        (plane[below + right]! << 24);
    }
  }
  return { data, width, height };
}

/* ------------------------------------------------------------------------------------------ */
/* Frames                                                                                     */
/* ------------------------------------------------------------------------------------------ */

/**
 * Fills `columns` with, per output column, (source column << 7) | weight (1/128 px) for a
 * viewport starting at `vx` and `scale` source pixels per output pixel (pixel-centre mapping).
 */
function fillColumns(
  columns: Int32Array,
  count: number,
  vx: number,
  scale: number,
  planeWidth: number,
): void {
  for (let i = 0; i < count; i += 1) {
    columns[i] = fixedPoint(vx + (i + 0.5) * scale - 0.5, planeWidth);
  }
}

/** A source coordinate as (index << 7) | weight, clamped to the plane. */
function fixedPoint(coordinate: number, size: number): number {
  let index = Math.floor(coordinate);
  let weight = Math.round((coordinate - index) * 128);
  if (weight === 128) {
    index += 1;
    weight = 0;
  }
  if (index < 0) return 0;
  if (index > size - 1) return (size - 1) << 7;
  return (index << 7) | weight;
}

/** Bilinear sample of one quad plane into `out` (an 8-bit plane of outWidth × outHeight at `offset`). */
export function samplePlane(
  plane: QuadPlane,
  viewport: Viewport,
  out: Uint8Array,
  offset: number,
  outWidth: number,
  outHeight: number,
  columns: Int32Array,
): void {
  const src = plane.data;
  fillColumns(columns, outWidth, viewport.x, viewport.w / outWidth, plane.width);
  const scaleY = viewport.h / outHeight;
  for (let j = 0; j < outHeight; j += 1) {
    const fy = fixedPoint(viewport.y + (j + 0.5) * scaleY - 0.5, plane.height);
    const row = (fy >> 7) * plane.width;
    const wy = fy & 127;
    const iwy = 128 - wy;
    const o = offset + j * outWidth;
    // two pixels per iteration: measurably faster in V8 than one
    const pairs = outWidth & ~1;
    for (let i = 0; i < pairs; i += 2) {
      const c0 = columns[i]!;
      const c1 = columns[i + 1]!;
      const q0 = src[row + (c0 >> 7)]!;
      const q1 = src[row + (c1 >> 7)]!;
      const w0 = c0 & 127;
      const w1 = c1 & 127;
      // both rows interpolated at once: (p, below) lanes against (right, below-right) lanes
      const h0 = Math.imul(q0 & 0xff00ff, 128 - w0) + Math.imul((q0 >>> 8) & 0xff00ff, w0);
      const h1 = Math.imul(q1 & 0xff00ff, 128 - w1) + Math.imul((q1 >>> 8) & 0xff00ff, w1);
      out[o + i] = (Math.imul(h0 & 0xffff, iwy) + Math.imul(h0 >>> 16, wy) + 8192) >> 14;
      out[o + i + 1] = (Math.imul(h1 & 0xffff, iwy) + Math.imul(h1 >>> 16, wy) + 8192) >> 14;
    }
    if (pairs !== outWidth) {
      const c = columns[pairs]!;
      const q = src[row + (c >> 7)]!;
      const w = c & 127;
      const h = Math.imul(q & 0xff00ff, 128 - w) + Math.imul((q >>> 8) & 0xff00ff, w);
      out[o + pairs] = (Math.imul(h & 0xffff, iwy) + Math.imul(h >>> 16, wy) + 8192) >> 14;
    }
  }
}

/** As samplePlane, for two photos on their own viewports, blended with weight `alpha` (0..256) of b. */
export function samplePlaneBlend(
  a: QuadPlane,
  viewportA: Viewport,
  b: QuadPlane,
  viewportB: Viewport,
  alpha: number,
  out: Uint8Array,
  offset: number,
  outWidth: number,
  outHeight: number,
  columnsA: Int32Array,
  columnsB: Int32Array,
): void {
  fillColumns(columnsA, outWidth, viewportA.x, viewportA.w / outWidth, a.width);
  fillColumns(columnsB, outWidth, viewportB.x, viewportB.w / outWidth, b.width);
  const scaleA = viewportA.h / outHeight;
  const scaleB = viewportB.h / outHeight;
  const ialpha = 256 - alpha;
  const srcA = a.data;
  const srcB = b.data;
  for (let j = 0; j < outHeight; j += 1) {
    const fa = fixedPoint(viewportA.y + (j + 0.5) * scaleA - 0.5, a.height);
    const fb = fixedPoint(viewportB.y + (j + 0.5) * scaleB - 0.5, b.height);
    const rowA = (fa >> 7) * a.width;
    const rowB = (fb >> 7) * b.width;
    // vertical weights premultiplied by the blend weights: all four sum to 128 × 256
    const wa1 = Math.imul(fa & 127, ialpha);
    const wa0 = (ialpha << 7) - wa1;
    const wb1 = Math.imul(fb & 127, alpha);
    const wb0 = (alpha << 7) - wb1;
    const o = offset + j * outWidth;
    for (let i = 0; i < outWidth; i += 1) {
      const ca = columnsA[i]!;
      const cb = columnsB[i]!;
      const qa = srcA[rowA + (ca >> 7)]!;
      const qb = srcB[rowB + (cb >> 7)]!;
      const wxa = ca & 127;
      const wxb = cb & 127;
      const ha = Math.imul(qa & 0xff00ff, 128 - wxa) + Math.imul((qa >>> 8) & 0xff00ff, wxa);
      const hb = Math.imul(qb & 0xff00ff, 128 - wxb) + Math.imul((qb >>> 8) & 0xff00ff, wxb);
      // ≤ 255 × 128 × 128 × 256 < 2^31: one rounding for both interpolations and the blend
      out[o + i] =
        (Math.imul(ha & 0xffff, wa0) +
          Math.imul(ha >>> 16, wa1) +
          Math.imul(hb & 0xffff, wb0) +
          Math.imul(hb >>> 16, wb1) +
          (1 << 21)) >>>
        22;
    }
  }
}

/** A decoded, prescaled photo: sRGB, 3 bytes a pixel, and the camera path in its pixels. */
export interface PhotoPixels {
  rgb: Uint8Array;
  width: number;
  height: number;
  path: CameraPath;
}

/** Everything a worker needs to produce a clip's frames. */
export interface FramesRequest {
  first: PhotoPixels;
  /** null: a single photo, no crossfade. */
  last: PhotoPixels | null;
  output: Size;
  frameCount: number;
  /** Frames per second: the dissolve's length is in seconds. */
  fps: number;
}

/** The photo as quad planes, ready for sampling. */
export function preparePhoto(photo: PhotoPixels): PreparedPhoto {
  return { ...rgbToQuadPlanes(photo.rgb, photo.width, photo.height), path: photo.path };
}

const halve = (viewport: Viewport): Viewport => ({
  x: viewport.x / 2,
  y: viewport.y / 2,
  w: viewport.w / 2,
  h: viewport.h / 2,
});

/**
 * A clip's frames, one at a time: the photos are converted once (the costly set-up), then each
 * frame(index, out) is sampled into a buffer the caller owns and may reuse for the next frame
 * (a fresh 3 MB buffer per 1080p frame cost ~4 ms of page faults and zeroing).
 */
export class FrameSampler {
  readonly frameCount: number;
  /** Bytes of one yuv420p frame. */
  readonly frameBytes: number;
  private readonly first: PreparedPhoto;
  private readonly last: PreparedPhoto | null;
  private readonly output: Size;
  private readonly fps: number;
  private readonly columns: readonly [Int32Array, Int32Array];

  constructor(request: FramesRequest) {
    if (!(request.fps > 0)) throw new Error(`fps must be positive: ${request.fps}`);
    this.first = preparePhoto(request.first);
    this.last = request.last ? preparePhoto(request.last) : null;
    this.output = request.output;
    this.frameCount = request.frameCount;
    this.fps = request.fps;
    const { width, height } = request.output;
    this.frameBytes = width * height + 2 * (width / 2) * (height / 2);
    this.columns = [new Int32Array(width), new Int32Array(width)];
  }

  /** Blend weight (0…256) of the last photo in frame `index`. */
  alphaAt(index: number): number {
    if (!this.last) return 0;
    return Math.round(crossfadeWeight(index / this.fps, (this.frameCount - 1) / this.fps) * 256);
  }

  /** Frame `index` (0 … frameCount − 1) as yuv420p, written into `out` (frameBytes long). */
  frame(index: number, out: Uint8Array = new Uint8Array(this.frameBytes)): Uint8Array {
    if (out.length < this.frameBytes)
      throw new Error(`frame buffer too small: ${out.length} < ${this.frameBytes}`);
    const { first, last, frameCount } = this;
    const { width, height } = this.output;
    const cw = width / 2;
    const ch = height / 2;
    const lumaSize = width * height;
    const columns = this.columns;
    const t = frameCount === 1 ? 0 : index / (frameCount - 1);
    const alpha = this.alphaAt(index);
    const photo = alpha === 256 ? last! : first;
    const view = viewportAt(photo.path, t);
    if (alpha === 0 || alpha === 256) {
      samplePlane(photo.y, view, out, 0, width, height, columns[0]);
      samplePlane(photo.u, halve(view), out, lumaSize, cw, ch, columns[0]);
      samplePlane(photo.v, halve(view), out, lumaSize + cw * ch, cw, ch, columns[0]);
    } else {
      const other = viewportAt(last!.path, t);
      const [ca, cb] = columns;
      samplePlaneBlend(first.y, view, last!.y, other, alpha, out, 0, width, height, ca, cb);
      samplePlaneBlend(first.u, halve(view), last!.u, halve(other), alpha, out, lumaSize, cw, ch, ca, cb);
      samplePlaneBlend(
        first.v,
        halve(view),
        last!.v,
        halve(other),
        alpha,
        out,
        lumaSize + cw * ch,
        cw,
        ch,
        ca,
        cb,
      );
    }
    return out;
  }
}
