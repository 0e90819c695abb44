/**
 * The embedded video provider: a camera move over the scene's first photo that hands over to
 * its last photo with a motion-matched crossfade, rendered on this machine.
 *
 * How, and why this way (measured on the 2-core dev/CI machines):
 * - each photo is decoded and prescaled ONCE with sharp, cropped to the part the camera path
 *   visits and scaled so the tightest viewport maps 1:1 onto the output (never upscaled by the
 *   per-frame sampler);
 * - frames are sampled in JS with a bilinear sampler at 1/128-pixel precision: every viewport
 *   position is honoured exactly, so slow moves glide instead of stair-stepping the way an
 *   integer crop (zoompan) does;
 * - sampling happens directly in BT.709 YUV 4:2:0 (1.5 bytes a pixel instead of 3), each source
 *   pixel stored with its right/lower neighbours in one 32-bit word, so a sample costs one load;
 *   FFmpeg then reads yuv420p from stdin and skips its own colour conversion;
 * - both photos follow the same camera path and are blended (same linear blend as in RGB) in
 *   the middle 36 % of the clip;
 * - frames stream into ONE encoder through a pipe with backpressure (at most a frame or two in
 *   memory); aborting kills the encoder and removes the partial clip.
 */
import { rename, rm } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import sharp from "sharp";
import { AppError, isAppError } from "../../errors.js";
import type { Logger } from "../../logger.js";
import { runFfmpeg } from "../../media/ffmpeg.runner.js";
import { encodeRawFramesArgs } from "../../media/ffmpeg-commands.js";
import type { VideoProvider, VideoRenderRequest } from "../types.js";
import { type CameraPath, cameraPath, pathBounds, type Viewport, viewportAt } from "./camera-move.js";

export interface LocalVideoProviderOptions {
  /** The ffmpeg binary (see resolveFfmpegBinaries). */
  ffmpeg: string;
  /** Wall-clock limit for one render; default 60 s + 10 s per second of clip. */
  timeoutMs?: number;
  logger?: Logger;
}

/** The crossfade window, as fractions of the clip. */
export const CROSSFADE = Object.freeze({ start: 0.32, end: 0.68 });

/** Blend weight of the last photo at progress t: 0 before the window, 1 after, smoothstep between. */
export function crossfadeWeight(t: number): number {
  const u = Math.min(1, Math.max(0, (t - CROSSFADE.start) / (CROSSFADE.end - CROSSFADE.start)));
  return u * u * (3 - 2 * u);
}

export class LocalVideoProvider implements VideoProvider {
  readonly name = "local";
  private readonly ffmpeg: string;
  private readonly timeoutMs: number | undefined;
  private readonly logger: Logger | undefined;

  constructor(options: LocalVideoProviderOptions) {
    this.ffmpeg = options.ffmpeg;
    this.timeoutMs = options.timeoutMs;
    this.logger = options.logger;
  }

  async render(request: VideoRenderRequest): Promise<{ outFile: string; costUsd?: number }> {
    const { width, height, fps, outFile } = request;
    if (!(width > 0 && height > 0 && width % 2 === 0 && height % 2 === 0)) {
      throw new AppError("BAD_USER_INPUT", `output size must be even and positive: ${width}x${height}`);
    }
    if (!(request.seconds > 0 && fps > 0))
      throw new AppError("BAD_USER_INPUT", "seconds and fps must be positive");
    const frameCount = Math.round(request.seconds * fps);
    const timeoutMs = this.timeoutMs ?? 60_000 + request.seconds * 10_000;
    const deadline = Date.now() + timeoutMs;
    const partialFile = path.join(path.dirname(outFile), `.${path.basename(outFile)}.partial`);
    const log = this.logger?.child({ provider: this.name, cameraMove: request.cameraMove });

    // One signal for "stop": the caller's abort or our own deadline.
    const stop = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      stop.abort();
    }, timeoutMs);
    const onAbort = () => stop.abort();
    if (request.signal?.aborted) stop.abort();
    request.signal?.addEventListener("abort", onAbort, { once: true });
    const checkpoint = () => {
      if (timedOut)
        throw new AppError("TIMEOUT", `local render exceeded ${timeoutMs} ms`, { transient: true });
      if (stop.signal.aborted) throw new AppError("CANCELLED", "local render cancelled");
    };

    const started = Date.now();
    try {
      checkpoint();
      const output = { width, height };
      const same = request.firstImagePath === request.lastImagePath;
      const firstPromise = preparePhoto(request.firstImagePath, request.cameraMove, output);
      const [first, last] = await Promise.all([
        firstPromise,
        same ? firstPromise : preparePhoto(request.lastImagePath, request.cameraMove, output),
      ]);
      checkpoint();
      const prepared = Date.now();

      let framesDone = 0;
      const frames = renderFrames({ first, last: same ? null : last, output, frameCount }, () => {
        framesDone += 1;
        if (framesDone % 6 === 0) request.onProgress?.(Math.min(0.99, framesDone / frameCount));
      });
      await runFfmpeg(
        this.ffmpeg,
        encodeRawFramesArgs({
          width,
          height,
          fps,
          frames: frameCount,
          outFile: partialFile,
          pixelFormat: "yuv420p",
        }),
        {
          timeoutMs: Math.max(1, deadline - Date.now()),
          signal: stop.signal,
          // one frame per read keeps at most a frame or two in flight
          stdin: Readable.from(frames, { objectMode: false, highWaterMark: 1 }),
          logger: log,
        },
      );
      checkpoint();
      await rename(partialFile, outFile);
      request.onProgress?.(1);
      log?.info(
        { frames: frameCount, prepareMs: prepared - started, totalMs: Date.now() - started },
        "local clip rendered",
      );
      return { outFile, costUsd: 0 };
    } catch (error) {
      await rm(partialFile, { force: true });
      if (timedOut)
        throw new AppError("TIMEOUT", `local render exceeded ${timeoutMs} ms`, {
          transient: true,
          cause: error,
        });
      if (request.signal?.aborted)
        throw new AppError("CANCELLED", "local render cancelled", { cause: error });
      throw error;
    } finally {
      clearTimeout(timer);
      request.signal?.removeEventListener("abort", onAbort);
    }
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Photos: decode once, prescale once, store as BT.709 YUV 4:2:0 "quad" planes                */
/* ------------------------------------------------------------------------------------------ */

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

async function preparePhoto(
  file: string,
  move: VideoRenderRequest["cameraMove"],
  output: { width: number; height: number },
): Promise<PreparedPhoto> {
  try {
    const meta = await sharp(file, { autoOrient: true }).metadata();
    const source = { width: meta.autoOrient.width, height: meta.autoOrient.height };
    const sourcePath = cameraPath(move, source, output);
    // Crop to what the camera visits (plus a margin for the sampler's neighbours)...
    const bounds = pathBounds(sourcePath);
    const left = Math.max(0, Math.floor(bounds.x) - 2);
    const top = Math.max(0, Math.floor(bounds.y) - 2);
    const region = {
      left,
      top,
      width: Math.min(source.width, Math.ceil(bounds.x + bounds.w) + 2) - left,
      height: Math.min(source.height, Math.ceil(bounds.y + bounds.h) + 2) - top,
    };
    // ...and scale so the tightest viewport maps 1:1 onto the output.
    const tightest = Math.min(sourcePath.from.w, sourcePath.to.w);
    const scale = output.width / tightest;
    const workWidth = Math.max(2, Math.round(region.width * scale));
    const workHeight = Math.max(2, Math.round(region.height * scale));
    const { data, info } = await sharp(file, { autoOrient: true })
      .extract(region)
      .resize(workWidth, workHeight, { fit: "fill", kernel: "lanczos3" })
      .flatten({ background: "#000000" })
      .toColourspace("srgb")
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || info.width !== workWidth || info.height !== workHeight) {
      throw new Error(`unexpected decode: ${info.width}x${info.height}x${info.channels}`);
    }
    const sx = workWidth / region.width;
    const sy = workHeight / region.height;
    const toWork = (viewport: Viewport): Viewport => ({
      x: (viewport.x - region.left) * sx,
      y: (viewport.y - region.top) * sy,
      w: viewport.w * sx,
      h: viewport.h * sy,
    });
    return {
      ...rgbToQuadPlanes(data, workWidth, workHeight),
      path: { from: toWork(sourcePath.from), to: toWork(sourcePath.to) },
    };
  } catch (error) {
    if (isAppError(error)) throw error;
    throw new AppError("MEDIA_REJECTED", `photo could not be decoded: ${path.basename(file)}`, {
      cause: error,
    });
  }
}

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

interface FramePlan {
  first: PreparedPhoto;
  /** null: a single photo, no crossfade. */
  last: PreparedPhoto | null;
  output: { width: number; height: number };
  frameCount: number;
}

const halve = (viewport: Viewport): Viewport => ({
  x: viewport.x / 2,
  y: viewport.y / 2,
  w: viewport.w / 2,
  h: viewport.h / 2,
});

/** Yields the clip's frames as yuv420p buffers, one at a time (pulled by the encoder's pipe). */
export async function* renderFrames(plan: FramePlan, onFrame?: () => void): AsyncGenerator<Buffer> {
  const { first, last, frameCount } = plan;
  const { width, height } = plan.output;
  const cw = width / 2;
  const ch = height / 2;
  const lumaSize = width * height;
  const columns = [new Int32Array(width), new Int32Array(width)] as const;
  for (let f = 0; f < frameCount; f += 1) {
    const t = frameCount === 1 ? 0 : f / (frameCount - 1);
    const alpha = last ? Math.round(crossfadeWeight(t) * 256) : 0;
    const frame = Buffer.allocUnsafe(lumaSize + 2 * cw * ch);
    const photo = alpha === 256 ? last! : first;
    const view = viewportAt(photo.path, t);
    if (alpha === 0 || alpha === 256) {
      samplePlane(photo.y, view, frame, 0, width, height, columns[0]);
      samplePlane(photo.u, halve(view), frame, lumaSize, cw, ch, columns[0]);
      samplePlane(photo.v, halve(view), frame, lumaSize + cw * ch, cw, ch, columns[0]);
    } else {
      const other = viewportAt(last!.path, t);
      const [ca, cb] = columns;
      samplePlaneBlend(first.y, view, last!.y, other, alpha, frame, 0, width, height, ca, cb);
      samplePlaneBlend(first.u, halve(view), last!.u, halve(other), alpha, frame, lumaSize, cw, ch, ca, cb);
      samplePlaneBlend(
        first.v,
        halve(view),
        last!.v,
        halve(other),
        alpha,
        frame,
        lumaSize + cw * ch,
        cw,
        ch,
        ca,
        cb,
      );
    }
    onFrame?.();
    yield frame;
  }
}
