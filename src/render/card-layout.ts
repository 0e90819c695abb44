/**
 * A tiny vertical-stack layout for cards and panels: each row is laid out for a known width and
 * reports its height, so a card can be measured before it is drawn (and refuse to grow past
 * its box: rows shrink their text instead).
 */
import { type FontWeight, loadFont } from "./fonts.js";
import { layoutTextBox, round, type TextAlign, textBlockSvg } from "./text-layout.js";

export interface Row {
  height: number;
  /** The width the content really takes (the widest text line), ≤ the width it was laid out for. */
  contentWidth: number;
  /** Text the row shows (for captions files and tests); empty for graphics. */
  text: string;
  /** SVG markup with the row's top-left at (x, y). */
  render(x: number, y: number): string;
}

export interface TextRowOptions {
  width: number;
  weight: FontWeight;
  maxSize: number;
  minSize: number;
  maxLines: number;
  fill: string;
  align?: TextAlign;
  /** Draw a line through the text (an old price). */
  strike?: boolean;
  lineHeight?: number;
}

export function textRow(text: string, options: TextRowOptions): Row {
  const lineHeight = options.lineHeight ?? 1.2;
  const block = layoutTextBox(text, {
    font: loadFont(options.weight),
    maxWidth: options.width,
    maxHeight: options.maxSize * lineHeight * options.maxLines,
    maxFontSize: options.maxSize,
    minFontSize: options.minSize,
    maxLines: options.maxLines,
    lineHeight,
  });
  return {
    height: block.height,
    contentWidth: block.width,
    text: block.lines.map((line) => line.text).join(" "),
    render(x, y) {
      let svg = textBlockSvg(block, {
        x,
        y,
        fill: options.fill,
        align: options.align,
        boxWidth: options.width,
      });
      if (options.strike) {
        const thickness = Math.max(2, block.fontSize * 0.07);
        block.lines.forEach((line, index) => {
          const free = options.width - line.width;
          const dx = options.align === "center" ? free / 2 : options.align === "right" ? free : 0;
          const middle = y + index * block.fontSize * lineHeight + (block.fontSize * lineHeight) / 2;
          svg += `<rect x="${round(x + dx)}" y="${round(middle - thickness / 2)}" width="${round(line.width)}" height="${round(thickness)}" fill="${options.fill}"/>`;
        });
      }
      return svg;
    },
  };
}

export function gapRow(height: number): Row {
  return { height, contentWidth: 0, text: "", render: () => "" };
}

/** A short accent rule (under a headline). */
export function ruleRow(options: {
  width: number;
  boxWidth: number;
  height: number;
  fill: string;
  align?: TextAlign;
}): Row {
  const { width, boxWidth, height, fill, align } = options;
  const dx = align === "center" ? (boxWidth - width) / 2 : align === "right" ? boxWidth - width : 0;
  return {
    height,
    contentWidth: width,
    text: "",
    render: (x, y) =>
      `<rect x="${round(x + dx)}" y="${round(y)}" width="${round(width)}" height="${round(height)}" rx="${round(height / 2)}" fill="${fill}"/>`,
  };
}

export function stackHeight(rows: readonly Row[]): number {
  return rows.reduce((sum, row) => sum + row.height, 0);
}

/** Draws rows top to bottom from (x, y). */
export function renderStack(rows: readonly Row[], x: number, y: number): string {
  let top = y;
  let svg = "";
  for (const row of rows) {
    svg += row.render(x, top);
    top += row.height;
  }
  return svg;
}

/** Text of the rows, one per line (what a captions file or a test reads). */
export function stackText(rows: readonly Row[]): string[] {
  return rows.map((row) => row.text).filter(Boolean);
}

export function roundedRect(options: {
  x: number;
  y: number;
  width: number;
  height: number;
  radius: number;
  fill: string;
  opacity?: number;
}): string {
  const { x, y, width, height, radius, fill, opacity } = options;
  const alpha = opacity === undefined ? "" : ` fill-opacity="${round(opacity, 3)}"`;
  return `<rect x="${round(x)}" y="${round(y)}" width="${round(width)}" height="${round(height)}" rx="${round(radius)}" fill="${fill}"${alpha}/>`;
}
