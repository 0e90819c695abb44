/**
 * Where to point the camera when a landscape photo becomes a portrait or square frame: the
 * photo's most salient region (sharp's `attention` strategy — luminance frequency, saturation
 * and skin tones; or `entropy`), instead of a blind centre crop. The camera path (later) centres
 * its moves on the returned point.
 */
import sharp from "../media/sharp.js";
import type { Rect, RenderFormat } from "./render-formats.js";
import { FRAME_SIZE } from "./render-formats.js";

export interface SalientRegion {
  /** The largest rectangle of the target aspect inside the photo, placed on its salient part (photo pixels). */
  crop: Rect;
  /** The crop's centre as fractions of the photo's width and height (0…1). */
  focus: { x: number; y: number };
  /** The photo's size after EXIF rotation. */
  photo: { width: number; height: number };
}

/** Analysis runs on a copy this wide (or high) at most: saliency needs no more detail. */
const ANALYSIS_SIDE = 512;

export async function salientRegion(
  photo: Buffer | string,
  format: RenderFormat,
  options: { strategy?: "attention" | "entropy"; maxPixels?: number } = {},
): Promise<SalientRegion> {
  const frame = FRAME_SIZE[format];
  const targetAspect = frame.width / frame.height;
  // decode once, EXIF-rotated, downscaled for analysis
  const { data, info } = await sharp(photo, { limitInputPixels: options.maxPixels ?? 100_000_000 })
    .rotate()
    .resize(ANALYSIS_SIDE, ANALYSIS_SIDE, { fit: "inside", withoutEnlargement: true })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const meta = await sharp(photo, { limitInputPixels: options.maxPixels ?? 100_000_000 }).metadata();
  const rotated = (meta.orientation ?? 1) >= 5;
  const photoWidth = (rotated ? meta.height : meta.width) ?? info.width;
  const photoHeight = (rotated ? meta.width : meta.height) ?? info.height;

  const fitted = largestOfAspect(info.width, info.height, targetAspect);
  const position = options.strategy === "entropy" ? sharp.strategy.entropy : sharp.strategy.attention;
  const result = await sharp(data, {
    raw: { width: info.width, height: info.height, channels: info.channels },
  })
    .resize(fitted.width, fitted.height, { fit: "cover", position })
    .toBuffer({ resolveWithObject: true });
  // sharp reports where it cropped, as a negative offset into the (unscaled) input
  const left = Math.abs(result.info.cropOffsetLeft ?? 0);
  const top = Math.abs(result.info.cropOffsetTop ?? 0);
  const scaleX = photoWidth / info.width;
  const scaleY = photoHeight / info.height;
  const full = largestOfAspect(photoWidth, photoHeight, targetAspect);
  const crop: Rect = {
    x: Math.min(photoWidth - full.width, Math.round(left * scaleX)),
    y: Math.min(photoHeight - full.height, Math.round(top * scaleY)),
    width: full.width,
    height: full.height,
  };
  return {
    crop,
    focus: { x: (crop.x + crop.width / 2) / photoWidth, y: (crop.y + crop.height / 2) / photoHeight },
    photo: { width: photoWidth, height: photoHeight },
  };
}

/** The largest width×height of `aspect` (w/h) that fits in the given size. */
export function largestOfAspect(
  width: number,
  height: number,
  aspect: number,
): { width: number; height: number } {
  if (width / height > aspect) return { width: Math.max(1, Math.round(height * aspect)), height };
  return { width, height: Math.max(1, Math.round(width / aspect)) };
}
