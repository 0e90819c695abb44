/**
 * The overlay colours from the brand's primary and secondary colours, made legible: text on a
 * panel must reach WCAG's 4.5:1 contrast, an accent 3:1 (WCAG 2.x "large text / graphics").
 * When the brand's colours cannot give that, the panel is darkened and the accent falls back to
 * the text colour — the look stays the brand's where it can, and is always readable.
 */
import { badInput } from "../errors.js";

export type Rgb = readonly [number, number, number];

export interface BrandColours {
  primaryColor?: string | null;
  secondaryColor?: string | null;
}

export interface OverlayPalette {
  /** Card and panel background. */
  panel: string;
  /** Text on the panel. */
  text: string;
  /** Rules, headline, highlights. */
  accent: string;
  /** Secondary text (old price, licence line), still ≥ 4.5:1 on the panel. */
  muted: string;
}

export const DEFAULT_PRIMARY = "#1b2a41";
export const DEFAULT_SECONDARY = "#d4a24c";
export const MIN_TEXT_CONTRAST = 4.5;
export const MIN_ACCENT_CONTRAST = 3;

/** "#abc" or "#aabbcc" (case-insensitive) → [r, g, b]. */
export function parseHexColour(value: string): Rgb {
  const match = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(value.trim());
  if (!match) throw badInput(`"${value}" is not a hex colour like #1b2a41`);
  let hex = match[1]!;
  if (hex.length === 3) hex = [...hex].map((c) => c + c).join("");
  return [0, 2, 4].map((at) => Number.parseInt(hex.slice(at, at + 2), 16)) as unknown as Rgb;
}

export function toHex(rgb: Rgb): string {
  return `#${rgb
    .map((c) =>
      Math.round(Math.min(255, Math.max(0, c)))
        .toString(16)
        .padStart(2, "0"),
    )
    .join("")}`;
}

/** WCAG 2.x relative luminance (sRGB). */
export function relativeLuminance(rgb: Rgb): number {
  const [r, g, b] = rgb.map((channel) => {
    const c = channel / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** WCAG contrast ratio, 1 … 21. */
export function contrastRatio(a: Rgb, b: Rgb): number {
  const [light, dark] = [relativeLuminance(a), relativeLuminance(b)].sort((x, y) => y - x) as [
    number,
    number,
  ];
  return (light + 0.05) / (dark + 0.05);
}

/** `amount` of the way from `from` to `to`. */
export function mix(from: Rgb, to: Rgb, amount: number): Rgb {
  return from.map((c, index) => c + (to[index]! - c) * amount) as unknown as Rgb;
}

const WHITE: Rgb = [255, 255, 255];
const INK: Rgb = [17, 17, 17];
const BLACK: Rgb = [0, 0, 0];

export function overlayPalette(brand: BrandColours = {}): OverlayPalette {
  let panel = parseHexColour(brand.primaryColor || DEFAULT_PRIMARY);
  const secondary = parseHexColour(brand.secondaryColor || DEFAULT_SECONDARY);
  // white or near-black text, whichever reads better; darken the panel until white reads well
  let text = contrastRatio(WHITE, panel) >= contrastRatio(INK, panel) ? WHITE : INK;
  for (let step = 1; contrastRatio(text, panel) < MIN_TEXT_CONTRAST && step <= 20; step += 1) {
    text = WHITE;
    panel = mix(panel, BLACK, 0.1);
  }
  const accent = contrastRatio(secondary, panel) >= MIN_ACCENT_CONTRAST ? secondary : text;
  // muted text: as far towards the panel as contrast allows (≥ 4.5:1), no further than 35 %
  let muted = text;
  for (let amount = 0.35; amount > 0; amount -= 0.05) {
    const candidate = mix(text, panel, amount);
    if (contrastRatio(candidate, panel) >= MIN_TEXT_CONTRAST) {
      muted = candidate;
      break;
    }
  }
  return { panel: toHex(panel), text: toHex(text), accent: toHex(accent), muted: toHex(muted) };
}
