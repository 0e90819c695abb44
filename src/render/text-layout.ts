/**
 * Text set into a box with glyph outlines from the packaged font, as SVG paths: wrap at spaces
 * (a word longer than the box breaks between characters), then shrink the size until every line
 * fits; at the smallest size whatever still does not fit ends in an ellipsis. Text therefore
 * never leaves its box, whatever the user typed. Pure: the font is passed in, nothing is read.
 */
import type { Font } from "./fonts.js";

export interface TextBoxOptions {
  font: Font;
  maxWidth: number;
  maxHeight: number;
  /** Largest size tried first, in pixels (the em size). */
  maxFontSize: number;
  /** Smallest size allowed; below it the text is cut with an ellipsis. */
  minFontSize: number;
  /** At most this many lines (the height may allow fewer). */
  maxLines?: number;
  /** Line box height as a multiple of the font size. */
  lineHeight?: number;
}

export interface TextLine {
  text: string;
  /** Advance width at the block's size, pixels. */
  width: number;
  /** Outline in font units, baseline at y = 0, y up (as in the font). */
  pathData: string;
}

export interface TextBlock {
  lines: TextLine[];
  fontSize: number;
  lineHeight: number;
  /** Widest line, pixels. */
  width: number;
  /** lines × line box, pixels. */
  height: number;
  /** True when even the smallest size needed an ellipsis. */
  truncated: boolean;
  /** Baseline of the first line below the block's top, pixels. */
  firstBaseline: number;
  unitsPerEm: number;
}

const ELLIPSIS = "…";

/** C0 and C1 control characters and DEL: no glyphs, and no business on screen or in a captions file. */
export function isControlCharacter(char: string): boolean {
  const code = char.codePointAt(0) ?? 0;
  return code < 0x20 || (code >= 0x7f && code <= 0x9f);
}

/** Collapses whitespace and turns control characters into spaces. */
export function normaliseText(text: string): string {
  return Array.from(text, (char) => (isControlCharacter(char) ? " " : char))
    .join("")
    .replace(/\s+/g, " ")
    .trim();
}

/**
 * The text in characters the font can draw: a character it lacks is replaced by its NFKC form
 * when the font has that (the fullwidth yen "￥" that ja-JP prices use becomes "¥"), else left
 * out — a missing glyph would otherwise show as an empty box. Inter covers Latin, Greek and
 * Cyrillic; other scripts would need a second packaged font.
 */
export function drawableText(font: Font, text: string): string {
  let out = "";
  for (const char of text) {
    if (font.hasGlyphForCodePoint(char.codePointAt(0)!)) out += char;
    else {
      const compatible = char.normalize("NFKC");
      if (
        compatible !== char &&
        Array.from(compatible).every((c) => font.hasGlyphForCodePoint(c.codePointAt(0)!))
      ) {
        out += compatible;
      }
    }
  }
  return out;
}

/** Advance width of `text` at `size` pixels (kerning included, as laid out by the font). */
export function measureText(font: Font, text: string, size: number): number {
  if (!text) return 0;
  return (font.layout(text).advanceWidth * size) / font.unitsPerEm;
}

/** Splits a word that is wider than `maxWidth` into pieces that fit (at least one character each). */
function breakWord(font: Font, word: string, size: number, maxWidth: number): string[] {
  const pieces: string[] = [];
  let current = "";
  for (const char of Array.from(word)) {
    if (current && measureText(font, current + char, size) > maxWidth) {
      pieces.push(current);
      current = char;
    } else current += char;
  }
  if (current) pieces.push(current);
  return pieces;
}

/** Greedy wrap at spaces; every returned line fits `maxWidth` (long words are broken). */
export function wrapText(font: Font, text: string, size: number, maxWidth: number): string[] {
  const words = normaliseText(text).split(" ").filter(Boolean);
  const lines: string[] = [];
  let current = "";
  for (const word of words) {
    const candidate = current ? `${current} ${word}` : word;
    if (measureText(font, candidate, size) <= maxWidth) {
      current = candidate;
      continue;
    }
    if (current) lines.push(current);
    if (measureText(font, word, size) <= maxWidth) current = word;
    else {
      const pieces = breakWord(font, word, size, maxWidth);
      current = pieces.pop() ?? "";
      lines.push(...pieces);
    }
  }
  if (current) lines.push(current);
  return lines;
}

/** Shortens `text` until it plus an ellipsis fits `maxWidth`. */
function ellipsize(font: Font, text: string, size: number, maxWidth: number): string {
  const chars = Array.from(text);
  while (chars.length > 0 && measureText(font, `${chars.join("").trimEnd()}${ELLIPSIS}`, size) > maxWidth) {
    chars.pop();
  }
  return `${chars.join("").trimEnd()}${ELLIPSIS}`;
}

function linesAllowed(options: TextBoxOptions, size: number): number {
  const lineBox = size * (options.lineHeight ?? 1.2);
  const byHeight = Math.floor((options.maxHeight + 1e-6) / lineBox);
  return Math.min(options.maxLines ?? Number.POSITIVE_INFINITY, byHeight);
}

function fits(options: TextBoxOptions, text: string, size: number): string[] | null {
  const allowed = linesAllowed(options, size);
  if (allowed < 1) return null;
  const lines = wrapText(options.font, text, size, options.maxWidth);
  return lines.length <= allowed ? lines : null;
}

/** Lays `text` out in the box: the largest whole-pixel size in [min, max] at which it fits. */
export function layoutTextBox(text: string, options: TextBoxOptions): TextBlock {
  const { font, maxWidth, minFontSize, maxFontSize } = options;
  if (!(maxWidth > 0 && options.maxHeight > 0)) throw new Error("text box must have a positive size");
  if (!(minFontSize > 0 && maxFontSize >= minFontSize)) throw new Error("font size range is invalid");
  const clean = normaliseText(drawableText(font, text));
  let low = Math.ceil(minFontSize);
  let high = Math.floor(maxFontSize);
  let best: { size: number; lines: string[] } | null = null;
  // fitting is monotone in the size (a smaller size never needs more lines), so bisect
  while (low <= high) {
    const size = Math.floor((low + high) / 2);
    const lines = fits(options, clean, size);
    if (lines) {
      best = { size, lines };
      low = size + 1;
    } else high = size - 1;
  }
  let truncated = false;
  if (!best) {
    const size = Math.ceil(minFontSize);
    const allowed = Math.max(1, linesAllowed(options, size));
    const lines = wrapText(font, clean, size, maxWidth);
    const kept = lines.slice(0, allowed);
    if (lines.length > allowed) {
      const last = kept.length - 1;
      kept[last] = ellipsize(font, `${kept[last]} ${lines[allowed]}`, size, maxWidth);
    }
    best = { size, lines: kept };
    truncated = true;
  }
  return blockOf(font, best.lines, best.size, options.lineHeight ?? 1.2, truncated);
}

/** A single line at a fixed size, no wrapping (for short labels whose box is computed from it). */
export function layoutLine(font: Font, text: string, size: number): TextBlock {
  return blockOf(font, [normaliseText(drawableText(font, text))], size, 1.2, false);
}

function blockOf(
  font: Font,
  texts: string[],
  size: number,
  lineHeight: number,
  truncated: boolean,
): TextBlock {
  const scale = size / font.unitsPerEm;
  const lines = texts.map((text): TextLine => {
    const run = font.layout(text);
    let pen = 0;
    const parts: string[] = [];
    run.glyphs.forEach((glyph, index) => {
      const position = run.positions[index]!;
      const d = glyph.path.translate(pen + position.xOffset, position.yOffset).toSVG();
      if (d) parts.push(d);
      pen += position.xAdvance;
    });
    return { text, width: run.advanceWidth * scale, pathData: parts.join("") };
  });
  const lineBox = size * lineHeight;
  const content = (font.ascent - font.descent) * scale;
  return {
    lines,
    fontSize: size,
    lineHeight,
    width: Math.max(0, ...lines.map((line) => line.width)),
    height: lines.length * lineBox,
    truncated,
    firstBaseline: (lineBox - content) / 2 + font.ascent * scale,
    unitsPerEm: font.unitsPerEm,
  };
}

export type TextAlign = "left" | "center" | "right";

/**
 * SVG for a laid-out block with its top-left at (x, y); `align` places each line within
 * `boxWidth` (default: the block's width).
 */
export function textBlockSvg(
  block: TextBlock,
  options: { x: number; y: number; fill: string; align?: TextAlign; boxWidth?: number; opacity?: number },
): string {
  const scale = block.fontSize / block.unitsPerEm;
  const boxWidth = options.boxWidth ?? block.width;
  const lineBox = block.fontSize * block.lineHeight;
  const opacity = options.opacity === undefined ? "" : ` fill-opacity="${round(options.opacity)}"`;
  const paths = block.lines.map((line, index) => {
    const free = boxWidth - line.width;
    const dx = options.align === "center" ? free / 2 : options.align === "right" ? free : 0;
    const baseline = options.y + block.firstBaseline + index * lineBox;
    const transform = `translate(${round(options.x + dx)} ${round(baseline)}) scale(${round(scale, 6)} ${round(-scale, 6)})`;
    return `<path transform="${transform}" d="${line.pathData}"/>`;
  });
  return `<g fill="${options.fill}"${opacity}>${paths.join("")}</g>`;
}

export const round = (value: number, digits = 2): string => {
  const factor = 10 ** digits;
  return String(Math.round(value * factor) / factor);
};
