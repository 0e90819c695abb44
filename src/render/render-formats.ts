/**
 * The output formats and where text may go in each. A safe zone is the part of the frame that
 * no player or app UI covers: every overlay box is laid out inside it (tests check the OCR'd
 * words land there too).
 */
import type { AspectRatio } from "../domain/vocabulary.js";

/** Every format the renderer lays out; `AspectRatio` (the job option) is a subset for now. */
export const RENDER_FORMATS = ["LANDSCAPE_16_9", "PORTRAIT_9_16", "SQUARE_1_1", "PORTRAIT_4_5"] as const;
export type RenderFormat = (typeof RENDER_FORMATS)[number];

// Compile-time check: every job aspect ratio is a format the renderer knows.
const _everyAspectIsAFormat: readonly RenderFormat[] = [] as readonly AspectRatio[];
void _everyAspectIsAFormat;

export interface Size {
  width: number;
  height: number;
}

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export const FRAME_SIZE: Readonly<Record<RenderFormat, Size>> = Object.freeze({
  LANDSCAPE_16_9: { width: 1920, height: 1080 },
  PORTRAIT_9_16: { width: 1080, height: 1920 },
  SQUARE_1_1: { width: 1080, height: 1080 },
  PORTRAIT_4_5: { width: 1080, height: 1350 },
});

/** Margins as fractions of the frame's height (top, bottom) and width (sides). */
export interface SafeMargins {
  top: number;
  bottom: number;
  side: number;
}

/**
 * - 9:16 (Reels, Shorts, TikTok): the numbers — the top 14 % (status bar, account
 *   name), the bottom 35 % (caption, music ticker, buttons) and 6 % at each side.
 * - 4:5 (the Instagram/Facebook feed): the feed draws no UI over the media, but the post is
 *   cropped to 1:1 in the profile grid and players round the corners; 6 % at the sides and top,
 *   10 % at the bottom keeps text off the corners and clear of a "Watch more" pill.
 * - 1:1 (feeds, marketplaces): the same 6 % / 10 %.
 * - 16:9 (YouTube, web players, TVs): the broadcast title-safe area (SMPTE RP 2046-1: the
 *   central 90 %) — 5 % on every side — with 10 % at the bottom for the player's controls.
 */
export const SAFE_MARGINS: Readonly<Record<RenderFormat, SafeMargins>> = Object.freeze({
  LANDSCAPE_16_9: { top: 0.05, bottom: 0.1, side: 0.05 },
  PORTRAIT_9_16: { top: 0.14, bottom: 0.35, side: 0.06 },
  SQUARE_1_1: { top: 0.06, bottom: 0.1, side: 0.06 },
  PORTRAIT_4_5: { top: 0.06, bottom: 0.1, side: 0.06 },
});

/** The safe zone in pixels, rounded inwards (never a pixel outside the margins). */
export function safeZone(format: RenderFormat): Rect {
  const { width, height } = FRAME_SIZE[format];
  const margins = SAFE_MARGINS[format];
  const x = Math.ceil(width * margins.side);
  const y = Math.ceil(height * margins.top);
  const right = Math.floor(width * (1 - margins.side));
  const bottom = Math.floor(height * (1 - margins.bottom));
  return { x, y, width: right - x, height: bottom - y };
}

export function isRenderFormat(value: string): value is RenderFormat {
  return (RENDER_FORMATS as readonly string[]).includes(value);
}

/** Narrow formats stack an outro card's content; the landscape one sets it in two columns. */
export const isLandscape = (format: RenderFormat): boolean =>
  FRAME_SIZE[format].width > FRAME_SIZE[format].height;

export function rectContains(outer: Rect, inner: Rect): boolean {
  return (
    inner.x >= outer.x &&
    inner.y >= outer.y &&
    inner.x + inner.width <= outer.x + outer.width &&
    inner.y + inner.height <= outer.y + outer.height
  );
}

export function rectsOverlap(a: Rect, b: Rect): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}
