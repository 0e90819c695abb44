/**
 * Image analysis at ingest: one shrink-on-load decode with sharp to a ≤800-px RGB buffer, and
 * every metric derived from that buffer in plain JS (pure functions below, unit-tested on
 * synthetic pixels). The facts feed the pair selector; the thumbnail feeds the UI.
 */
import { open } from "node:fs/promises";
import sharp, { type OutputInfo } from "sharp";
import { AppError } from "../errors.js";
import type { QualityFlag } from "../providers/types.js";
import {
  type ImageFormat,
  readDeclaredDimensions,
  SNIFF_HEAD_BYTES,
  sniffImageFormat,
} from "./image-format.js";

// libvips' operation cache keeps up to 20 recently read files open and mapped, and 50 MB of
// results: for photos decoded once each it only holds memory (20 cached 45 MB uploads were
// 900 MB of resident memory).
sharp.cache(false);

/** Longest side of the analysis buffer; SOURCES.md calibrates sharpness at this size. */
export const ANALYSIS_SIZE = 800;
export const THUMBNAIL_SIZE = 512;

export interface ImageAnalysis {
  format: ImageFormat;
  /** Size after EXIF orientation. */
  width: number;
  height: number;
  /** JPEG, longest side ≤ 512 px, orientation applied. */
  thumbnail: Buffer;
  /** Variance of a 3×3 Laplacian on the ≤800-px greyscale. */
  sharpness: number;
  /** Second-derivative variance along the blurriest direction (0°, 45°, 90°, 135°): motion blur kills one. */
  directionalSharpness: number;
  /** Weakest / strongest directional energy, 0..1; near 0 means blur along one direction. */
  blurIsotropy: number;
  /** Mean luma 0..1. */
  exposure: number;
  /** Fraction of pixels with luma ≤ 5 / ≥ 250 (of 255). */
  shadowClip: number;
  highlightClip: number;
  /** Hasler–Süsstrunk colourfulness (0 = grey; ~30 average photo; >60 very colourful). */
  colourfulness: number;
  /** 64-bit difference hash, 16 hex digits. */
  dhash: string;
  meanColour: [number, number, number];
  /** 4×4×4 RGB histogram, fractions summing to ~1, for continuity between two photos. */
  colourHistogram: number[];
  /** 8×8 mean grey levels (0..255), row-major, for structural similarity. */
  greyVector: number[];
  flags: QualityFlag[];
}

export interface AnalyzeImageOptions {
  /** Largest width × height accepted; checked on the header before decode and again by sharp. */
  maxPixels: number;
}

// ---------------------------------------------------------------------------------------------
// Pure metrics on raw buffers.

/** Rec.601 luma in 8 bits, with PIL's fixed-point rounding (what SOURCES.md measured on). */
export function toGreyscale(rgb: Uint8Array, width: number, height: number, channels: number): Uint8Array {
  const grey = new Uint8Array(width * height);
  for (let i = 0, p = 0; i < grey.length; i++, p += channels) {
    grey[i] = (rgb[p]! * 19595 + rgb[p + 1]! * 38470 + rgb[p + 2]! * 7471 + 0x8000) >>> 16;
  }
  return grey;
}

export interface GradientStats {
  /** Population variance of the 4-neighbour Laplacian over interior pixels. */
  laplacianVariance: number;
  /**
   * Mean squared second difference along four directions. A plain Laplacian sums directions, so
   * a photo smeared sideways keeps its vertical detail and still scores like a clean, low-texture
   * one; the weakest direction exposes it.
   */
  horizontal: number;
  vertical: number;
  diagonal: number;
  antiDiagonal: number;
}

/** One pass over the interior: the Laplacian is the sum of the horizontal and vertical terms. */
export function gradientStats(grey: Uint8Array, width: number, height: number): GradientStats {
  if (width < 3 || height < 3) {
    return { laplacianVariance: 0, horizontal: 0, vertical: 0, diagonal: 0, antiDiagonal: 0 };
  }
  let lapSum = 0;
  let lapSq = 0;
  let h = 0;
  let v = 0;
  let d = 0;
  let a = 0;
  for (let y = 1; y < height - 1; y++) {
    const row = y * width;
    for (let x = 1; x < width - 1; x++) {
      const i = row + x;
      const c2 = 2 * grey[i]!;
      const dh = grey[i - 1]! + grey[i + 1]! - c2;
      const dv = grey[i - width]! + grey[i + width]! - c2;
      const dd = grey[i - width - 1]! + grey[i + width + 1]! - c2;
      const da = grey[i - width + 1]! + grey[i + width - 1]! - c2;
      const lap = dh + dv;
      lapSum += lap;
      lapSq += lap * lap;
      h += dh * dh;
      v += dv * dv;
      d += dd * dd;
      a += da * da;
    }
  }
  const n = (width - 2) * (height - 2);
  const lapMean = lapSum / n;
  return {
    laplacianVariance: lapSq / n - lapMean * lapMean,
    horizontal: h / n,
    vertical: v / n,
    // Diagonal neighbours are √2 away, so the same smooth gradient gives a second difference 2×
    // larger; ÷4 on the squared value puts all four directions on one scale.
    diagonal: d / n / 4,
    antiDiagonal: a / n / 4,
  };
}

export function laplacianVariance(grey: Uint8Array, width: number, height: number): number {
  return gradientStats(grey, width, height).laplacianVariance;
}

/** Box-filter resample of a single-channel image to tw×th (exact area weights; deterministic). */
export function areaResize(
  grey: Uint8Array,
  width: number,
  height: number,
  tw: number,
  th: number,
): Float64Array {
  const out = new Float64Array(tw * th);
  const sx = width / tw;
  const sy = height / th;
  for (let ty = 0; ty < th; ty++) {
    const y0 = ty * sy;
    const y1 = y0 + sy;
    for (let tx = 0; tx < tw; tx++) {
      const x0 = tx * sx;
      const x1 = x0 + sx;
      let acc = 0;
      for (let y = Math.floor(y0); y < Math.ceil(y1); y++) {
        const wy = Math.min(y1, y + 1) - Math.max(y0, y);
        const row = y * width;
        for (let x = Math.floor(x0); x < Math.ceil(x1); x++) {
          const wx = Math.min(x1, x + 1) - Math.max(x0, x);
          acc += grey[row + x]! * wx * wy;
        }
      }
      out[ty * tw + tx] = acc / (sx * sy);
    }
  }
  return out;
}

/** dHash: 9×8 grey, one bit per horizontal neighbour pair (1 when brightness rises), MSB first. */
export function differenceHash(grey: Uint8Array, width: number, height: number): string {
  const small = areaResize(grey, width, height, 9, 8);
  let hex = "";
  for (let y = 0; y < 8; y++) {
    let byte = 0;
    for (let x = 0; x < 8; x++) {
      byte = (byte << 1) | (small[y * 9 + x]! < small[y * 9 + x + 1]! ? 1 : 0);
    }
    hex += byte.toString(16).padStart(2, "0");
  }
  return hex;
}

const POPCOUNT_NIBBLE = [0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4];

/** Number of differing bits between two equal-length hex hashes. */
export function hammingDistance(a: string, b: string): number {
  if (a.length !== b.length) throw new RangeError(`hash lengths differ: ${a.length} vs ${b.length}`);
  let bits = 0;
  for (let i = 0; i < a.length; i++) {
    const x = Number.parseInt(a[i]!, 16);
    const y = Number.parseInt(b[i]!, 16);
    if (Number.isNaN(x) || Number.isNaN(y)) throw new RangeError("hash is not hexadecimal");
    bits += POPCOUNT_NIBBLE[x ^ y]!;
  }
  return bits;
}

export interface ColourStats {
  /** Hasler & Süsstrunk (2003): σ_rgyb + 0.3·μ_rgyb on 0..255 channels. */
  colourfulness: number;
  meanColour: [number, number, number];
  /** 4 levels per channel → 64 bins, fractions rounded to 4 decimals so results compare stably. */
  histogram: number[];
}

/** All colour statistics in one pass over the RGB(A) buffer. */
export function colourStats(rgb: Uint8Array, channels: number): ColourStats {
  const n = Math.floor(rgb.length / channels);
  if (n === 0) return { colourfulness: 0, meanColour: [0, 0, 0], histogram: new Array<number>(64).fill(0) };
  const bins = new Uint32Array(64);
  let sr = 0;
  let sg = 0;
  let sb = 0;
  let qRg = 0;
  let qYb = 0;
  for (let p = 0; p < rgb.length; p += channels) {
    const r = rgb[p]!;
    const g = rgb[p + 1]!;
    const b = rgb[p + 2]!;
    sr += r;
    sg += g;
    sb += b;
    const rg = r - g;
    const yb = 0.5 * (r + g) - b;
    qRg += rg * rg;
    qYb += yb * yb;
    bins[((r >> 6) << 4) | ((g >> 6) << 2) | (b >> 6)]! += 1;
  }
  const mRg = (sr - sg) / n;
  const mYb = (0.5 * (sr + sg) - sb) / n;
  const varRg = Math.max(0, qRg / n - mRg * mRg);
  const varYb = Math.max(0, qYb / n - mYb * mYb);
  return {
    colourfulness: Math.sqrt(varRg + varYb) + 0.3 * Math.sqrt(mRg * mRg + mYb * mYb),
    meanColour: [Math.round(sr / n), Math.round(sg / n), Math.round(sb / n)],
    histogram: Array.from(bins, (count) => Math.round((count / n) * 10_000) / 10_000),
  };
}

export function colourfulness(rgb: Uint8Array, channels: number): number {
  return colourStats(rgb, channels).colourfulness;
}

export interface LumaStats {
  mean: number;
  shadowClip: number;
  highlightClip: number;
  /**
   * Largest share of pixels within ±8 grey levels of one light level (≥ 170): the "paper" of a
   * drawing or scan, white or greyish. Photos spread their tones and stay well below half.
   */
  paperFraction: number;
  /** Clearly dark pixels (≤ 110): a line drawing has few. */
  darkFraction: number;
}

export function lumaStats(grey: Uint8Array): LumaStats {
  const counts = new Uint32Array(256);
  for (let i = 0; i < grey.length; i++) counts[grey[i]!]! += 1;
  const n = grey.length || 1;
  let sum = 0;
  let shadow = 0;
  let highlight = 0;
  let dark = 0;
  for (let v = 0; v < 256; v++) {
    const c = counts[v]!;
    sum += v * c;
    if (v <= 5) shadow += c;
    if (v >= 250) highlight += c;
    if (v <= 110) dark += c;
  }
  let paper = 0;
  for (let centre = 170; centre < 256; centre++) {
    let window = 0;
    for (let v = centre - 8; v <= Math.min(255, centre + 8); v++) window += counts[v]!;
    paper = Math.max(paper, window);
  }
  return {
    mean: sum / n / 255,
    shadowClip: shadow / n,
    highlightClip: highlight / n,
    paperFraction: paper / n,
    darkFraction: dark / n,
  };
}

export interface FlagInputs {
  width: number;
  height: number;
  sharpness: number;
  directionalSharpness: number;
  blurIsotropy: number;
  colourfulness: number;
  luma: LumaStats;
}

/** Thresholds, calibrated on the fixture photos (see SOURCES.md and the unit tests). */
export const FLAG_THRESHOLDS = Object.freeze({
  /** Below this Laplacian variance a photo is out of focus whatever the direction. */
  blurLaplacian: 45,
  /** Weakest-direction energy below this, with a lopsided profile, is motion blur. */
  blurDirectional: 12,
  blurIsotropy: 0.12,
  darkMean: 0.17,
  overexposedMean: 0.82,
  overexposedClip: 0.25,
  documentColourfulness: 12,
  documentPaper: 0.55,
  documentDark: 0.2,
  /** Shorter side below this cannot fill even a 1080p frame without obvious upscaling. */
  lowResolutionShortSide: 480,
});

export function qualityFlags(input: FlagInputs): QualityFlag[] {
  const t = FLAG_THRESHOLDS;
  const flags: QualityFlag[] = [];
  const document =
    input.colourfulness < t.documentColourfulness &&
    input.luma.paperFraction > t.documentPaper &&
    input.luma.darkFraction < t.documentDark;
  const motionBlur = input.directionalSharpness < t.blurDirectional && input.blurIsotropy < t.blurIsotropy;
  // A drawing's flat fills would read as "out of focus"; DOCUMENT is the truer, single reason.
  if (!document && (input.sharpness < t.blurLaplacian || motionBlur)) flags.push("BLURRY");
  if (input.luma.mean < t.darkMean) flags.push("DARK");
  if (!document && input.luma.mean > t.overexposedMean && input.luma.highlightClip > t.overexposedClip) {
    flags.push("OVEREXPOSED");
  }
  if (document) flags.push("DOCUMENT");
  if (Math.min(input.width, input.height) < t.lowResolutionShortSide) flags.push("LOW_RESOLUTION");
  return flags;
}

// ---------------------------------------------------------------------------------------------
// Decode (the only I/O-ish part: sharp).

const UNSUPPORTED_DECODER =
  /unsupported image format|compression format has not been built in|unsupported codec/i;

function decodeError(error: unknown): AppError {
  const message = error instanceof Error ? error.message : String(error);
  if (/exceeds pixel limit/i.test(message)) {
    return new AppError("MEDIA_REJECTED", "The image has too many pixels", {
      details: { reason: "PIXEL_LIMIT" },
      cause: error,
    });
  }
  if (UNSUPPORTED_DECODER.test(message)) {
    return new AppError("UNSUPPORTED_MEDIA_TYPE", "This image encoding is not supported", { cause: error });
  }
  // The decoder's own words stay in `cause` for the logs; clients get a stable reason.
  return new AppError("MEDIA_REJECTED", "The image is corrupt or truncated", {
    details: { reason: "CORRUPT" },
    cause: error,
  });
}

/**
 * Analyse one photo. Throws AppError UNSUPPORTED_MEDIA_TYPE for non-images and undecodable
 * codecs, MEDIA_REJECTED for corrupt/truncated data or more than `maxPixels` pixels (checked on
 * the header first, so a bomb never reaches the decoder).
 */
export async function analyzeImage(
  input: Buffer | string,
  options: AnalyzeImageOptions,
): Promise<ImageAnalysis> {
  // A path is decoded from the file (libvips reads it as it goes): a large upload is never
  // held in memory whole.
  const head = typeof input === "string" ? await readHead(input) : input.subarray(0, SNIFF_HEAD_BYTES);
  const format = sniffImageFormat(head);
  if (!format) throw new AppError("UNSUPPORTED_MEDIA_TYPE", "The file is not a supported image");
  const declared = readDeclaredDimensions(head);
  if (declared) {
    if (declared.width === 0 || declared.height === 0) {
      throw new AppError("MEDIA_REJECTED", "The image declares no pixels", {
        details: { reason: "CORRUPT" },
      });
    }
    if (declared.width * declared.height > options.maxPixels) {
      throw new AppError("MEDIA_REJECTED", "The image has too many pixels", {
        details: {
          reason: "PIXEL_LIMIT",
          width: declared.width,
          height: declared.height,
          maxPixels: options.maxPixels,
        },
      });
    }
  }

  let decoded: { data: Buffer; info: OutputInfo };
  let oriented: { width: number; height: number };
  try {
    // failOn "error": truncation and decoder errors abort; mere warnings (e.g. stray bytes
    // before a marker, common in camera files) do not.
    const image = sharp(input, {
      failOn: "error",
      limitInputPixels: options.maxPixels,
      autoOrient: true,
      sequentialRead: true,
    });
    const metadata = await image.metadata();
    oriented = metadata.autoOrient;
    decoded = await image
      .resize({ width: ANALYSIS_SIZE, height: ANALYSIS_SIZE, fit: "inside", withoutEnlargement: true })
      .flatten({ background: "#ffffff" })
      .toColourspace("srgb")
      .raw({ depth: "uchar" })
      .toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw decodeError(error);
  }

  const { data, info } = decoded;
  const { width: w, height: h, channels } = info;
  const grey = toGreyscale(data, w, h, channels);
  const gradients = gradientStats(grey, w, h);
  const directions = [gradients.horizontal, gradients.vertical, gradients.diagonal, gradients.antiDiagonal];
  const weakest = Math.min(...directions);
  const strongest = Math.max(...directions);
  const luma = lumaStats(grey);
  const colour = colourStats(data, channels);
  const width = oriented.width;
  const height = oriented.height;

  const thumbnail = await sharp(data, { raw: { width: w, height: h, channels } })
    .resize({ width: THUMBNAIL_SIZE, height: THUMBNAIL_SIZE, fit: "inside", withoutEnlargement: true })
    .jpeg({ quality: 80 })
    .toBuffer();

  const blurIsotropy = strongest > 0 ? weakest / strongest : 0;
  return {
    format,
    width,
    height,
    thumbnail,
    sharpness: round(gradients.laplacianVariance, 1),
    directionalSharpness: round(weakest, 2),
    blurIsotropy: round(blurIsotropy, 4),
    exposure: round(luma.mean, 4),
    shadowClip: round(luma.shadowClip, 4),
    highlightClip: round(luma.highlightClip, 4),
    colourfulness: round(colour.colourfulness, 2),
    dhash: differenceHash(grey, w, h),
    meanColour: colour.meanColour,
    colourHistogram: colour.histogram,
    greyVector: Array.from(areaResize(grey, w, h, 8, 8), (v) => Math.round(v)),
    flags: qualityFlags({
      width,
      height,
      sharpness: gradients.laplacianVariance,
      directionalSharpness: weakest,
      blurIsotropy,
      colourfulness: colour.colourfulness,
      luma,
    }),
  };
}

async function readHead(file: string): Promise<Buffer> {
  const handle = await open(file, "r");
  try {
    const head = Buffer.alloc(SNIFF_HEAD_BYTES);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
