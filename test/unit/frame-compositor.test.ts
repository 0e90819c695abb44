import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { blendYuvLayer, layerOpacityAt, prepareYuvLayer } from "../../src/render/frame-compositor.js";

const W = 8;
const H = 8;
/** A black yuv420p frame (BT.709 limited range: Y 16, Cb/Cr 128). */
function blackFrame(): Uint8Array {
  const frame = new Uint8Array(W * H * 1.5);
  frame.fill(16, 0, W * H);
  frame.fill(128, W * H);
  return frame;
}
function solid(width: number, height: number, rgba: [number, number, number, number]): Uint8Array {
  const out = new Uint8Array(width * height * 4);
  for (let p = 0; p < out.length; p += 4) out.set(rgba, p);
  return out;
}
const lumaAt = (frame: Uint8Array, x: number, y: number) => frame[y * W + x]!;
const cbAt = (frame: Uint8Array, x: number, y: number) => frame[W * H + (y >> 1) * (W / 2) + (x >> 1)]!;
const crAt = (frame: Uint8Array, x: number, y: number) =>
  frame[W * H * 1.25 + (y >> 1) * (W / 2) + (x >> 1)]!;

describe("frame compositor", () => {
  it("an opaque white layer turns its box white and leaves the rest", () => {
    const frame = blackFrame();
    blendYuvLayer(frame, W, H, prepareYuvLayer(solid(4, 4, [255, 255, 255, 255]), 4, 4, { x: 2, y: 2 }), 1);
    assert.equal(lumaAt(frame, 2, 2), 235);
    assert.equal(lumaAt(frame, 5, 5), 235);
    assert.equal(lumaAt(frame, 1, 1), 16);
    assert.equal(lumaAt(frame, 6, 6), 16);
    assert.equal(cbAt(frame, 2, 2), 128);
    assert.equal(crAt(frame, 2, 2), 128);
  });

  it("converts colour with the BT.709 limited-range matrix", () => {
    const frame = blackFrame();
    blendYuvLayer(frame, W, H, prepareYuvLayer(solid(2, 2, [255, 0, 0, 255]), 2, 2, { x: 0, y: 0 }), 1);
    // pure red in BT.709: Y = 16 + 219 × 0.2126, Cr = 128 + 112
    assert.equal(lumaAt(frame, 0, 0), Math.round(16 + 219 * 0.2126));
    assert.equal(crAt(frame, 0, 0), 240);
    assert.ok(cbAt(frame, 0, 0) < 128);
  });

  it("honours the layer's alpha and the opacity of a fade", () => {
    const half = blackFrame();
    blendYuvLayer(half, W, H, prepareYuvLayer(solid(2, 2, [255, 255, 255, 128]), 2, 2, { x: 0, y: 0 }), 1);
    assert.ok(Math.abs(lumaAt(half, 0, 0) - (16 + (219 * 128) / 255)) <= 1);
    const faded = blackFrame();
    blendYuvLayer(faded, W, H, prepareYuvLayer(solid(2, 2, [255, 255, 255, 255]), 2, 2, { x: 0, y: 0 }), 0.5);
    assert.ok(Math.abs(lumaAt(faded, 0, 0) - 125.5) <= 1);
    const none = blackFrame();
    blendYuvLayer(none, W, H, prepareYuvLayer(solid(2, 2, [255, 255, 255, 255]), 2, 2, { x: 0, y: 0 }), 0);
    assert.deepEqual(none, blackFrame());
  });

  it("aligns odd positions to chroma sites and clips at the frame's edge", () => {
    const layer = prepareYuvLayer(solid(3, 3, [255, 255, 255, 255]), 3, 3, { x: 7, y: 5 });
    assert.deepEqual([layer.x, layer.y, layer.width, layer.height], [6, 4, 4, 4]);
    const frame = blackFrame();
    blendYuvLayer(frame, W, H, layer, 1);
    // the 3×3 content now covers x 6–8 (8 is off the frame) and y 4–6
    assert.equal(lumaAt(frame, 7, 6), 235);
    assert.equal(lumaAt(frame, 6, 4), 235);
    assert.equal(lumaAt(frame, 7, 7), 16);
    assert.equal(lumaAt(frame, 5, 5), 16);
  });

  it("matches the blend equation within one level on random layers, opacities and frames", () => {
    // out = in × (1 − α·o) + premultiplied × o, in floating point, beside the integer blend
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let round = 0; round < 20; round += 1) {
      const rgba = new Uint8Array(6 * 6 * 4).map((_, i) =>
        i % 4 === 3 && random() < 0.3 ? 0 : random() * 256,
      );
      const layer = prepareYuvLayer(rgba, 6, 6, {
        x: Math.floor(random() * 6) - 2,
        y: Math.floor(random() * 6) - 2,
      });
      const opacity = round % 4 === 0 ? 1 : random();
      const frame = new Uint8Array(W * H * 1.5).map(() => random() * 256);
      const expected = Uint8Array.from(frame);
      const o = Math.round(opacity * 256) / 256;
      const planes = [
        {
          offset: 0,
          fw: W,
          fh: H,
          lx: layer.x,
          ly: layer.y,
          lw: layer.width,
          values: layer.luma,
          alphas: layer.alpha,
        },
        ...[layer.cb, layer.cr].map((values, k) => ({
          offset: W * H + k * (W / 2) * (H / 2),
          fw: W / 2,
          fh: H / 2,
          lx: layer.x / 2,
          ly: layer.y / 2,
          lw: layer.width / 2,
          values,
          alphas: layer.alphaChroma,
        })),
      ];
      for (const p of planes) {
        for (let j = 0; j < p.values.length / p.lw; j += 1) {
          for (let i = 0; i < p.lw; i += 1) {
            const fx = p.lx + i;
            const fy = p.ly + j;
            if (fx < 0 || fy < 0 || fx >= p.fw || fy >= p.fh) continue;
            const q = p.offset + fy * p.fw + fx;
            const a = p.alphas[j * p.lw + i]! / 255;
            expected[q] = Math.round(frame[q]! * (1 - a * o) + p.values[j * p.lw + i]! * o);
          }
        }
      }
      blendYuvLayer(frame, W, H, layer, opacity);
      for (let q = 0; q < frame.length; q += 1) {
        assert.ok(
          Math.abs(frame[q]! - expected[q]!) <= 1,
          `round ${round}, byte ${q}: ${frame[q]} vs ${expected[q]}`,
        );
      }
    }
  });

  it("fades like the FFmpeg filter: in from start, out before end, nothing outside", () => {
    const window = { start: 0.4, end: 1.9, fadeSeconds: 0.3 };
    assert.equal(layerOpacityAt(0.3, window), 0);
    assert.ok(Math.abs(layerOpacityAt(0.55, window) - 0.5) < 1e-9);
    assert.equal(layerOpacityAt(1, window), 1);
    assert.ok(Math.abs(layerOpacityAt(1.75, window) - 0.5) < 1e-9);
    assert.equal(layerOpacityAt(1.9, window), 0);
    assert.equal(layerOpacityAt(2, { start: 0, end: 4, fadeSeconds: 0 }), 1);
  });
});
