/**
 * The packaged typeface: Inter (SIL Open Font License 1.1), read from the TrueType files of
 * `@expo-google-fonts/inter`, whose package ships the licence as `LICENSE_FONT`. Glyph outlines
 * come from these files only — never from the machine's fonts or fontconfig — so a render is
 * identical wherever it runs.
 */
import { createRequire } from "node:module";
import * as fontkit from "fontkit";

export const FONT_WEIGHTS = ["regular", "medium", "semibold", "bold"] as const;
export type FontWeight = (typeof FONT_WEIGHTS)[number];

const FILES: Record<FontWeight, string> = {
  regular: "400Regular/Inter_400Regular.ttf",
  medium: "500Medium/Inter_500Medium.ttf",
  semibold: "600SemiBold/Inter_600SemiBold.ttf",
  bold: "700Bold/Inter_700Bold.ttf",
};

const PACKAGE = "@expo-google-fonts/inter";
const require = createRequire(import.meta.url);

/** Absolute path of a packaged font file. */
export function fontFile(weight: FontWeight): string {
  return require.resolve(`${PACKAGE}/${FILES[weight]}`);
}

/** Absolute path of the font's licence text, shipped inside the package. */
export function fontLicenceFile(): string {
  return require.resolve(`${PACKAGE}/LICENSE_FONT`);
}

/** A parsed font (fontkit). */
export type Font = fontkit.Font;

const cache = new Map<FontWeight, Font>();

/** The parsed font for a weight, read once per process (≈300 kB each). */
export function loadFont(weight: FontWeight): Font {
  let font = cache.get(weight);
  if (!font) {
    const opened = fontkit.openSync(fontFile(weight));
    if (!("layout" in opened)) throw new Error(`${FILES[weight]} is a collection, not a font`);
    font = opened;
    cache.set(weight, font);
  }
  return font;
}
