/**
 * Image analysis at ingest: one shrink-on-load decode with sharp to a ≤800-px RGB buffer, every
 * metric derived from that buffer (the pixel math of image-metrics.ts, run in a media worker
 * thread when a pool is given), and the quality flags. The facts feed the pair selector; the
 * thumbnail feeds the UI.
 */
import { open } from "node:fs/promises";
import type { QualityFlag } from "../domain/vocabulary.js";
import { AppError } from "../errors.js";
import type { MediaWorkerPool } from "../workers/media-tasks.js";
import {
  type ImageFormat,
  readDeclaredDimensions,
  SNIFF_HEAD_BYTES,
  sniffImageFormat,
} from "./image-format.js";
import { type LumaStats, type PixelMetrics, type Pixels, pixelMetrics } from "./image-metrics.js";
import sharp, { type OutputInfo } from "./sharp.js";

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
  /**
   * Where the pixel math runs: the service passes its worker pool; without one (tests, tools)
   * it runs on the calling thread. Same numbers either way.
   */
  workers?: MediaWorkerPool;
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
  const pixels: Pixels = { data, width: info.width, height: info.height, channels: info.channels };
  // The thumbnail is encoded on libvips's threads while the metrics are computed: started first,
  // since without a pool the metrics run on this thread and return only when done.
  const thumbnail = sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } })
    .resize({ width: THUMBNAIL_SIZE, height: THUMBNAIL_SIZE, fit: "inside", withoutEnlargement: true })
    .jpeg({ quality: 80 })
    .toBuffer();
  // Handled below; until then, metrics that throw first must not leave its failure unhandled.
  thumbnail.catch(() => undefined);
  // The buffer is copied to the worker (sharp's memory cannot be moved), ~1 MB: the thumbnail
  // still reads it.
  const metrics = options.workers ? options.workers.run("image-metrics", pixels) : pixelMetrics(pixels);
  const [measured, encoded] = await Promise.all([metrics, thumbnail]);
  return describe(format, oriented, measured, encoded);
}

/** The analysis from the pixel metrics: rounded facts and quality flags. */
function describe(
  format: ImageFormat,
  { width, height }: { width: number; height: number },
  { gradients, luma, colour, dhash, greyVector }: PixelMetrics,
  thumbnail: Buffer,
): ImageAnalysis {
  const directions = [gradients.horizontal, gradients.vertical, gradients.diagonal, gradients.antiDiagonal];
  const weakest = Math.min(...directions);
  const strongest = Math.max(...directions);
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
    dhash,
    meanColour: colour.meanColour,
    colourHistogram: colour.histogram,
    greyVector,
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
