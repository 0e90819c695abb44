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

const require = createRequire(import.meta.url);

// Whole specifiers, resolved through Node's module resolution: the dependency is visible here.
const FILES: Record<FontWeight, () => string> = {
  regular: () => require.resolve("@expo-google-fonts/inter/400Regular/Inter_400Regular.ttf"),
  medium: () => require.resolve("@expo-google-fonts/inter/500Medium/Inter_500Medium.ttf"),
  semibold: () => require.resolve("@expo-google-fonts/inter/600SemiBold/Inter_600SemiBold.ttf"),
  bold: () => require.resolve("@expo-google-fonts/inter/700Bold/Inter_700Bold.ttf"),
};

/** Absolute path of a packaged font file. */
export function fontFile(weight: FontWeight): string {
  return FILES[weight]();
}

/** Absolute path of the font's licence text, shipped inside the package. */
export function fontLicenceFile(): string {
  return require.resolve("@expo-google-fonts/inter/LICENSE_FONT");
}

/** A parsed font (fontkit). */
export type Font = fontkit.Font;

const cache = new Map<FontWeight, Font>();

/** The parsed font for a weight, read once per process (≈300 kB each). */
export function loadFont(weight: FontWeight): Font {
  let font = cache.get(weight);
  if (!font) {
    const opened = fontkit.openSync(fontFile(weight));
    if (!("layout" in opened)) throw new Error(`${fontFile(weight)} is a collection, not a font`);
    font = opened;
    cache.set(weight, font);
  }
  return font;
}
