/**
 * Logos and agent photos into overlay-ready PNGs at exactly the size a card needs. PNG, JPEG
 * and WebP are decoded by sharp under a pixel limit (a 14000×14000 PNG is refused before it is
 * decoded); an SVG is sanitised first (svg-sanitiser.ts) and rasterised at the target size, so
 * neither its declared size nor its content decides how much memory the raster takes.
 */

import { AppError } from "../errors.js";
import { readDeclaredDimensions, sniffImageFormat } from "../media/image-format.js";
import sharp, { type Sharp } from "../media/sharp.js";
import { sanitiseSvg } from "./svg-sanitiser.js";

export const BRAND_IMAGE_KINDS = ["png", "jpeg", "webp", "svg"] as const;
export type BrandImageKind = (typeof BRAND_IMAGE_KINDS)[number];

export interface BrandImageLimits {
  maxBytes: number;
  /** Largest raster input, in pixels (width × height). */
  maxPixels: number;
}

export const DEFAULT_BRAND_IMAGE_LIMITS: Readonly<BrandImageLimits> = Object.freeze({
  maxBytes: 10 * 1024 * 1024,
  maxPixels: 40_000_000,
});

const rejected = (code: "UNSUPPORTED_MEDIA_TYPE" | "PAYLOAD_TOO_LARGE" | "MEDIA_REJECTED", reason: string) =>
  new AppError(code, reason, { details: { reason } });

/** What the bytes are, by their content (never by a name or a declared type). */
export function sniffBrandImage(bytes: Buffer): BrandImageKind {
  const raster = sniffImageFormat(bytes.subarray(0, 64 * 1024));
  if (raster === "png" || raster === "jpeg" || raster === "webp") return raster;
  if (raster)
    throw rejected(
      "UNSUPPORTED_MEDIA_TYPE",
      `${raster.toUpperCase()} is not accepted for logos or agent photos (use PNG, JPEG, WebP or SVG)`,
    );
  // an SVG: optional BOM, XML declaration, comments or DOCTYPE, then <svg
  const head = bytes
    .subarray(0, 4096)
    .toString("utf8")
    .replace(/^\uFEFF/, "");
  if (
    /^\s*(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*|<!DOCTYPE[^>]*>\s*)*<svg[\s>]/i.test(head) ||
    /^\s*(<\?xml[^>]*>\s*)?<!DOCTYPE\s+svg/i.test(head)
  ) {
    return "svg";
  }
  throw rejected("UNSUPPORTED_MEDIA_TYPE", "not a PNG, JPEG, WebP or SVG image");
}

export interface RasteriseOptions {
  width: number;
  height: number;
  /** `contain` fits inside the box, transparent around (logos); `cover` fills and crops (photos). */
  fit: "contain" | "cover";
  /** Crop to a circle (agent photos). */
  circle?: boolean;
  /** Where a `contain` image sits in its box (default centred). */
  gravity?: "centre" | "left";
  limits?: BrandImageLimits;
}

/** The image as an RGBA PNG of exactly width×height. Hostile or unreadable input: AppError with a reason. */
export async function rasteriseBrandImage(bytes: Buffer, options: RasteriseOptions): Promise<Buffer> {
  const limits = options.limits ?? DEFAULT_BRAND_IMAGE_LIMITS;
  const width = Math.round(options.width);
  const height = Math.round(options.height);
  if (!(width > 0 && height > 0 && width <= 4096 && height <= 4096))
    throw new Error("raster size out of range");
  if (bytes.length > limits.maxBytes) {
    throw rejected("PAYLOAD_TOO_LARGE", `image is larger than ${Math.round(limits.maxBytes / 1048576)} MiB`);
  }
  const kind = sniffBrandImage(bytes);
  let input: Sharp;
  if (kind === "svg") {
    const sanitised = sanitiseSvg(bytes);
    const { viewBox } = sanitised;
    // rasterise at the size the box needs, keeping the artwork's proportions
    const scale =
      options.fit === "contain"
        ? Math.min(width / viewBox[2], height / viewBox[3])
        : Math.max(width / viewBox[2], height / viewBox[3]);
    const rasterW = Math.max(1, Math.round(viewBox[2] * scale));
    const rasterH = Math.max(1, Math.round(viewBox[3] * scale));
    const svg = sanitised.toSvg({ width: rasterW, height: rasterH });
    input = sharp(Buffer.from(svg), { density: 72, limitInputPixels: limits.maxPixels });
  } else {
    const declared = readDeclaredDimensions(bytes.subarray(0, 256 * 1024));
    if (declared && declared.width * declared.height > limits.maxPixels) {
      throw rejected(
        "MEDIA_REJECTED",
        `image declares ${declared.width}×${declared.height} pixels, more than allowed`,
      );
    }
    input = sharp(bytes, { limitInputPixels: limits.maxPixels, failOn: "error" }).rotate();
  }
  try {
    let image = input.resize(width, height, {
      fit: options.fit,
      position: options.fit === "cover" ? sharp.strategy.attention : (options.gravity ?? "centre"),
      background: { r: 0, g: 0, b: 0, alpha: 0 },
    });
    image = image.ensureAlpha();
    if (options.circle) {
      const mask = Buffer.from(
        `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><ellipse cx="${width / 2}" cy="${height / 2}" rx="${width / 2}" ry="${height / 2}" fill="#fff"/></svg>`,
      );
      image = sharp(await image.png().toBuffer()).composite([{ input: mask, blend: "dest-in" }]);
    }
    return await image.png().toBuffer();
  } catch (error) {
    if (error instanceof AppError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw rejected("MEDIA_REJECTED", `image could not be read (${message.split("\n")[0]})`);
  }
}
