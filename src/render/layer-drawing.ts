/**
 * Drawing overlay layers (text laid out with fontkit, QR codes, SVG built in JavaScript) is CPU
 * work of 30–250 ms a layer (the first call loads the fonts): it must not run on an API process's
 * event loop. The pipeline hands it to a media worker thread (`overlay-layers` task); tests, the
 * CLI and previews may draw in-process with `drawLayersHere`.
 */

import type { OverlayRef } from "./composition-plan.js";
import { layerFor } from "./cut-renderer.js";
import { type Cut, outroLayer } from "./outro-card.js";
import type { OverlayLayer } from "./overlay-layers.js";
import type { OverlaySpec } from "./overlay-spec.js";

export interface LayerRequest {
  spec: OverlaySpec;
  refs: OverlayRef[];
  outros: Cut[];
}

export interface DrawnLayers {
  layers: OverlayLayer[];
  outros: OverlayLayer[];
}

/** Draws the layers (by ref, in order) and the outro cards a cut list needs. */
export type LayerDrawer = (request: LayerRequest) => Promise<DrawnLayers>;

/** In this thread: for the worker itself, tests, the CLI and previews. */
export const drawLayersHere: LayerDrawer = async ({ spec, refs, outros }) => ({
  layers: refs.map((ref) => layerFor(spec, ref)),
  outros: await Promise.all(outros.map((cut) => outroLayer(spec, cut))),
});

/**
 * Buffers come out of a thread hop as plain Uint8Arrays: the spec's images going in, and the
 * layers' images coming out, are made Buffers again (sharp and the drawing code want Buffers).
 */
export function reviveSpec(spec: OverlaySpec): OverlaySpec {
  const buffer = (bytes: Uint8Array | null | undefined) =>
    bytes ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes;
  return {
    ...spec,
    agent: spec.agent ? { ...spec.agent, photo: buffer(spec.agent.photo) } : spec.agent,
    brand: spec.brand ? { ...spec.brand, logo: buffer(spec.brand.logo) } : spec.brand,
  };
}

export function reviveLayers(drawn: DrawnLayers): DrawnLayers {
  const revive = (layer: OverlayLayer): OverlayLayer => ({
    ...layer,
    images: layer.images.map((image) => ({
      ...image,
      input: Buffer.from(image.input.buffer, image.input.byteOffset, image.input.byteLength),
    })),
  });
  return { layers: drawn.layers.map(revive), outros: drawn.outros.map(revive) };
}
