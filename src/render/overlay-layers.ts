/**
 * The on-screen layers of a video — title panel, room caption, AI-disclosure label — laid out
 * in fixed regions of the safe zone that never overlap, so any combination can be on screen at
 * once: the disclosure band at the bottom of the safe zone, the title panel above it, the room
 * caption at the top. Each layer is an SVG the size of its own box (plus raster images for
 * photos and logos) and its position in the frame; overlay-raster.ts turns it into a PNG.
 */
import { type OverlayPalette, overlayPalette } from "./brand-palette.js";
import {
  gapRow,
  type Row,
  renderStack,
  roundedRect,
  ruleRow,
  stackHeight,
  stackText,
  textRow,
} from "./card-layout.js";
import type { FontWeight } from "./fonts.js";
import { disclosureText, type OverlaySpec, titleContent } from "./overlay-spec.js";
import { FRAME_SIZE, isLandscape, type Rect, type RenderFormat, safeZone } from "./render-formats.js";
import type { TextAlign } from "./text-layout.js";

export type OverlayKind = "title" | "caption" | "disclosure" | "outro";

export interface OverlayImage {
  /** RGBA PNG. */
  input: Buffer;
  /** Position inside the layer's box. */
  left: number;
  top: number;
}

export interface OverlayLayer {
  kind: OverlayKind;
  /** Where the layer sits in the frame (whole pixels). */
  box: Rect;
  /** An SVG document of box.width × box.height. */
  svg: string;
  images: OverlayImage[];
  /** What it says, line by line (captions file, tests). */
  text: string[];
}

export interface OverlayRegions {
  safe: Rect;
  /** The band for the AI-disclosure label, at the bottom of the safe zone. */
  disclosure: Rect;
  /** The room caption, top left of the safe zone. */
  caption: Rect;
  /** Where the title panel may grow (it sits at the bottom of this). */
  title: Rect;
  /** The outro card. */
  card: Rect;
}

/** Pixel sizes are designed for a 1080-pixel short side; this scales them for others. */
export const unitOf = (format: RenderFormat): number =>
  Math.min(FRAME_SIZE[format].width, FRAME_SIZE[format].height) / 1080;

export function overlayRegions(format: RenderFormat): OverlayRegions {
  const safe = safeZone(format);
  const u = unitOf(format);
  const wide = isLandscape(format);
  const band = Math.round(84 * u);
  const gap = Math.round(16 * u);
  const above = safe.height - band - gap;
  return {
    safe,
    disclosure: {
      x: safe.x,
      y: safe.y + safe.height - band,
      width: Math.floor(safe.width * (wide ? 0.6 : 1)),
      height: band,
    },
    caption: {
      x: safe.x,
      y: safe.y,
      width: Math.floor(safe.width * (wide ? 0.4 : 0.7)),
      height: Math.round(84 * u),
    },
    title: { x: safe.x, y: safe.y, width: Math.floor(safe.width * (wide ? 0.56 : 1)), height: above },
    card: { x: safe.x, y: safe.y, width: safe.width, height: above },
  };
}

/** Wraps inner markup into an SVG document the size of a box. */
export function svgDocument(width: number, height: number, inner: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${inner}</svg>`;
}

export function paletteOf(spec: OverlaySpec): OverlayPalette {
  return overlayPalette({
    primaryColor: spec.brand?.primaryColor,
    secondaryColor: spec.brand?.secondaryColor,
  });
}

/**
 * The title's rows for a given text width: headline, accent rule, open-house time, address,
 * old price, price, facts. Shared by the title panel and the unbranded outro card.
 */
export function titleRows(
  spec: OverlaySpec,
  width: number,
  align: TextAlign,
  scale: number,
  palette: OverlayPalette,
): Row[] {
  const content = titleContent(spec);
  const s = (px: number) => Math.round(px * scale);
  /** One text row: [weight, largest px, smallest px, lines] at this width and alignment. */
  const line = (
    text: string,
    [weight, max, min, maxLines]: [FontWeight, number, number, number],
    fill = palette.text,
    strike = false,
  ) => textRow(text, { width, weight, maxSize: s(max), minSize: s(min), maxLines, fill, align, strike });
  const rows: Row[] = [
    line(content.headline.toUpperCase(), ["bold", 38, 24, 1], palette.accent),
    gapRow(s(10)),
    ruleRow({ width: s(72), boxWidth: width, height: s(6), fill: palette.accent, align }),
    gapRow(s(18)),
  ];
  if (content.openHouse) rows.push(line(content.openHouse, ["semibold", 36, 22, 2]), gapRow(s(10)));
  rows.push(line(content.address, ["bold", 60, 30, 2]));
  if (content.previousPrice) {
    rows.push(gapRow(s(12)), line(content.previousPrice, ["medium", 34, 24, 1], palette.muted, true));
  }
  if (content.price)
    rows.push(gapRow(s(content.previousPrice ? 4 : 14)), line(content.price, ["bold", 56, 30, 1]));
  if (content.facts) rows.push(gapRow(s(12)), line(content.facts, ["medium", 34, 22, 2]));
  return rows;
}

/** A rounded panel of the palette's colour behind rows of text, as a layer filling `box`. */
export function panelLayer(
  kind: OverlayKind,
  box: Rect,
  rows: readonly Row[],
  options: { pad: number; radius: number; palette: OverlayPalette; opacity?: number },
): OverlayLayer {
  const inner =
    panelBackground(box, options.radius, options.palette, options.opacity) +
    renderStack(rows, options.pad, options.pad);
  return { kind, box, svg: svgDocument(box.width, box.height, inner), images: [], text: stackText(rows) };
}

/** The panel's background: the whole box, rounded, 90 % opaque so text contrast holds over any photo. */
export function panelBackground(box: Rect, radius: number, palette: OverlayPalette, opacity = 0.9): string {
  return roundedRect({
    x: 0,
    y: 0,
    width: box.width,
    height: box.height,
    radius,
    fill: palette.panel,
    opacity,
  });
}

/** The title panel (first seconds of the video): property facts only, the same in both cuts. */
export function titleLayer(spec: OverlaySpec): OverlayLayer {
  const region = overlayRegions(spec.format).title;
  const u = unitOf(spec.format);
  const palette = paletteOf(spec);
  const pad = Math.round(40 * u);
  const rows = titleRows(spec, region.width - pad * 2, "left", u, palette);
  const height = Math.min(region.height, Math.ceil(stackHeight(rows) + pad * 2));
  const box: Rect = { x: region.x, y: region.y + region.height - height, width: region.width, height };
  return panelLayer("title", box, rows, { pad, radius: 18 * u, palette });
}

/** A pill with one line of text in a region's top-left (caption) or bottom-left (disclosure) corner. */
function pillLayer(
  kind: "caption" | "disclosure",
  text: string,
  region: Rect,
  options: {
    maxSize: number;
    minSize: number;
    maxLines: number;
    palette: OverlayPalette;
    u: number;
    anchor: "top" | "bottom";
  },
): OverlayLayer {
  const { u, palette } = options;
  const padX = Math.round(22 * u);
  const padY = Math.round(14 * u);
  const accent = Math.round(6 * u);
  const width = region.width - padX * 2 - accent;
  const row = textRow(text, {
    width,
    weight: kind === "caption" ? "semibold" : "medium",
    maxSize: options.maxSize,
    minSize: options.minSize,
    maxLines: options.maxLines,
    fill: palette.text,
    lineHeight: 1.15,
  });
  const boxWidth = Math.ceil(row.contentWidth + padX * 2 + accent);
  const boxHeight = Math.min(region.height, Math.ceil(row.height + padY * 2));
  const box: Rect = {
    x: region.x,
    y: options.anchor === "top" ? region.y : region.y + region.height - boxHeight,
    width: boxWidth,
    height: boxHeight,
  };
  const inner =
    roundedRect({
      x: 0,
      y: 0,
      width: boxWidth,
      height: boxHeight,
      radius: 10 * u,
      fill: palette.panel,
      opacity: kind === "caption" ? 0.88 : 0.8,
    }) +
    (kind === "caption"
      ? `<rect x="0" y="0" width="${accent}" height="${boxHeight}" fill="${palette.accent}"/>`
      : "") +
    row.render(accent + padX, padY);
  return { kind, box, svg: svgDocument(boxWidth, boxHeight, inner), images: [], text: [row.text] };
}

/** A room caption ("Kitchen") at the top of the safe zone. */
export function captionLayer(spec: OverlaySpec, caption: string): OverlayLayer {
  const u = unitOf(spec.format);
  return pillLayer("caption", caption, overlayRegions(spec.format).caption, {
    maxSize: Math.round(44 * u),
    minSize: Math.round(26 * u),
    maxLines: 1,
    palette: paletteOf(spec),
    u,
    anchor: "top",
  });
}

/** The AI-disclosure label at the bottom of the safe zone (legible: ≥ 22 px at 1080p). */
export function disclosureLayer(spec: OverlaySpec): OverlayLayer {
  const u = unitOf(spec.format);
  return pillLayer("disclosure", disclosureText(spec), overlayRegions(spec.format).disclosure, {
    maxSize: Math.round(28 * u),
    minSize: Math.round(22 * u),
    maxLines: 2,
    palette: paletteOf(spec),
    u,
    anchor: "bottom",
  });
}
