/**
 * Layers to pixels, with sharp (librsvg for the SVG, which holds only paths: no text element,
 * so no system font is ever consulted). A layer becomes an RGBA PNG the size of its box; the
 * burn step places it in the frame. Also the outro's background: the last photo, blurred and
 * dimmed, slightly larger than the frame so the slow push never shows an edge.
 */
import sharp from "../media/sharp.js";
import type { OverlayLayer } from "./overlay-layers.js";
import { FRAME_SIZE, type RenderFormat } from "./render-formats.js";

/** The layer as an RGBA PNG of box.width × box.height. */
export async function rasteriseLayer(layer: OverlayLayer): Promise<Buffer> {
  const image = sharp(Buffer.from(layer.svg), { density: 72 });
  const composed = layer.images.length
    ? sharp(await image.png().toBuffer()).composite(layer.images.map((item) => ({ ...item })))
    : image;
  return composed.png({ compressionLevel: 6 }).toBuffer();
}

/** Layers placed on a transparent frame (previews and tests; the pipeline burns the box PNGs). */
export async function rasteriseFrame(format: RenderFormat, layers: readonly OverlayLayer[]): Promise<Buffer> {
  const { width, height } = FRAME_SIZE[format];
  const parts = await Promise.all(
    layers.map(async (layer) => ({
      input: await rasteriseLayer(layer),
      left: layer.box.x,
      top: layer.box.y,
    })),
  );
  return sharp({ create: { width, height, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
    .composite(parts)
    .png()
    .toBuffer();
}

/** How much larger than the (half) frame the outro background is: room for a 1.06× push. */
export const OUTRO_BACKGROUND_SCALE = 1.08;

/**
 * The outro's background from the last photo, at half the frame's size (it is blurred: half
 * resolution loses nothing and the push in outroClipArgs costs a quarter): covers the frame
 * (×OUTRO_BACKGROUND_SCALE), blurred so the card reads, dimmed to ~55 % so the panel's edges
 * stay calm.
 */
export async function outroBackground(
  photo: Buffer | string,
  format: RenderFormat,
  options: { maxPixels?: number } = {},
): Promise<Buffer> {
  const frame = FRAME_SIZE[format];
  const width = Math.round((frame.width / 2) * OUTRO_BACKGROUND_SCALE);
  const height = Math.round((frame.height / 2) * OUTRO_BACKGROUND_SCALE);
  return sharp(photo, { limitInputPixels: options.maxPixels ?? 100_000_000 })
    .rotate()
    .resize(width, height, { fit: "cover", position: sharp.strategy.attention })
    .blur(9)
    .linear(0.55, 0)
    .removeAlpha()
    .png({ compressionLevel: 3 })
    .toBuffer();
}
