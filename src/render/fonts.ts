/**
 * The packaged typeface: Inter (SIL Open Font License 1.1), read from the TrueType files of
 * `@expo-google-fonts/inter`, whose package ships the licence as `LICENSE_FONT`. Glyph outlines
 * come from these files only — never from the machine's fonts or fontconfig — so a render is
 * identical wherever it runs.
 */
import { createRequire } from "node:module";
import inter from "@expo-google-fonts/inter/metadata.json" with { type: "json" };
import * as fontkit from "fontkit";

export const FONT_WEIGHTS = ["regular", "medium", "semibold", "bold"] as const;
export type FontWeight = (typeof FONT_WEIGHTS)[number];

const require = createRequire(import.meta.url);

// Each weight: its variant in the package's metadata, and its file by whole specifier (resolved
// through Node's module resolution).
const FILES: Record<FontWeight, { variant: string; file: () => string }> = {
  regular: {
    variant: "regular",
    file: () => require.resolve("@expo-google-fonts/inter/400Regular/Inter_400Regular.ttf"),
  },
  medium: {
    variant: "500",
    file: () => require.resolve("@expo-google-fonts/inter/500Medium/Inter_500Medium.ttf"),
  },
  semibold: {
    variant: "600",
    file: () => require.resolve("@expo-google-fonts/inter/600SemiBold/Inter_600SemiBold.ttf"),
  },
  bold: {
    variant: "700",
    file: () => require.resolve("@expo-google-fonts/inter/700Bold/Inter_700Bold.ttf"),
  },
};

/** Absolute path of a packaged font file; a package without that variant fails by name. */
export function fontFile(weight: FontWeight): string {
  const { variant, file } = FILES[weight];
  if (!inter.variants.includes(variant)) {
    throw new Error(`the packaged ${inter.family} (${inter.version}) has no ${variant} variant`);
  }
  return file();
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
