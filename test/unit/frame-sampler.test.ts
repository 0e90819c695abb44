import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cameraPath } from "../../src/providers/local/camera-move.js";
import {
  CROSSFADE_SECONDS,
  crossfadeWeight,
  FrameSampler,
  type QuadPlane,
  rgbToQuadPlanes,
  samplePlane,
  samplePlaneBlend,
} from "../../src/providers/local/frame-sampler.js";

/** A quad plane from plain 8-bit samples (each word: pixel, right, below, below-right; edges replicated). */
function quadPlane(values: number[], width: number, height: number): QuadPlane {
  const at = (row: number, col: number) =>
    values[Math.min(row, height - 1) * width + Math.min(col, width - 1)]!;
  const data = new Int32Array(width * height);
  for (let row = 0; row < height; row += 1) {
    for (let col = 0; col < width; col += 1) {
      data[row * width + col] =
        at(row, col) | (at(row, col + 1) << 8) | (at(row + 1, col) << 16) | (at(row + 1, col + 1) << 24);
    }
  }
  return { data, width, height };
}

const columns = () => new Int32Array(64);

describe("frame sampler", () => {
  it("reproduces the plane exactly for a 1:1 viewport", () => {
    const values = Array.from({ length: 6 * 4 }, (_, i) => (i * 37) % 256);
    const plane = quadPlane(values, 6, 4);
    const out = new Uint8Array(24);
    samplePlane(plane, { x: 0, y: 0, w: 6, h: 4 }, out, 0, 6, 4, columns());
    assert.deepEqual([...out], values);
  });

  it("interpolates at sub-pixel offsets (1/128 px precision)", () => {
    const plane = quadPlane([0, 100, 200, 0, 100, 200], 3, 2);
    const out = new Uint8Array(2);
    samplePlane(plane, { x: 0.5, y: 0, w: 2, h: 1 }, out, 0, 2, 1, columns());
    assert.deepEqual([...out], [50, 150]);
    samplePlane(plane, { x: 0.25, y: 0, w: 2, h: 1 }, out, 0, 2, 1, columns());
    assert.deepEqual([...out], [25, 125]);
    // a shift of 1/64 px still moves the result: no stair-steps
    samplePlane(plane, { x: 1 / 64, y: 0, w: 2, h: 1 }, out, 0, 2, 1, columns());
    assert.deepEqual([...out], [2, 102]);
  });

  it("blends two photos: 0 → first, 256 → last, 128 → the mean", () => {
    const a = quadPlane([10, 20, 30, 40], 2, 2);
    const b = quadPlane([210, 220, 230, 240], 2, 2);
    const view = { x: 0, y: 0, w: 2, h: 2 };
    const out = new Uint8Array(4);
    for (const [alpha, expected] of [
      [0, [10, 20, 30, 40]],
      [256, [210, 220, 230, 240]],
      [128, [110, 120, 130, 140]],
    ] as const) {
      samplePlaneBlend(a, view, b, view, alpha, out, 0, 2, 2, columns(), columns());
      assert.deepEqual([...out], expected, `alpha ${alpha}`);
    }
  });

  it("converts sRGB to BT.709 limited-range YUV", () => {
    const rgb = new Uint8Array([255, 255, 255, 0, 0, 0, 255, 0, 0, 0, 0, 255]);
    const planes = rgbToQuadPlanes(rgb, 4, 1);
    const luma = [0, 1, 2, 3].map((i) => planes.y.data[i]! & 255);
    assert.deepEqual(luma, [235, 16, 63, 32]);
    // one chroma sample per 2×2 block: white+black → neutral; red+blue → Cb, Cr high
    assert.equal(planes.u.data[0]! & 255, 128);
    assert.equal(planes.v.data[0]! & 255, 128);
    assert.equal(planes.u.data[1]! & 255, 171);
    assert.equal(planes.v.data[1]! & 255, 179);
  });

  it("dissolves in the middle of the clip, smoothly, for at most 0.6 s", () => {
    const clip = 119 / 30; // a 4 s clip: its last frame is at 3.967 s
    assert.equal(crossfadeWeight(0, clip), 0);
    assert.ok(Math.abs(crossfadeWeight(clip / 2, clip) - 0.5) < 1e-12);
    assert.equal(crossfadeWeight(clip, clip), 1);
    for (let i = 1; i <= 1000; i += 1) {
      assert.ok(crossfadeWeight((i * clip) / 1000, clip) >= crossfadeWeight(((i - 1) * clip) / 1000, clip));
    }
    assert.ok(CROSSFADE_SECONDS <= 0.6);
    // both photos are visible (weight strictly between 0 and 1) for CROSSFADE_SECONDS at most
    for (const seconds of [2, 4, 6, 10]) {
      const end = seconds - 1 / 30;
      const steps = 100_000;
      let overlap = 0;
      for (let i = 0; i <= steps; i += 1) {
        const w = crossfadeWeight((i * end) / steps, end);
        if (w > 0 && w < 1) overlap += end / steps;
      }
      assert.ok(overlap <= CROSSFADE_SECONDS + 1e-3, `${seconds} s clip: ${overlap.toFixed(3)} s of overlap`);
      assert.ok(overlap >= Math.min(CROSSFADE_SECONDS, end * 0.4) - 1e-3, "the dissolve is not a hard cut");
    }
    // a very short clip dissolves over at most 40 % of itself
    assert.equal(crossfadeWeight(0.2, 1), 0);
    assert.equal(crossfadeWeight(0.8, 1), 1);
  });

  it("blends two photos in at most 0.6 s worth of frames, at the middle of the clip", () => {
    const output = { width: 16, height: 8 };
    const flat = (value: number) => ({
      rgb: new Uint8Array(24 * 12 * 3).fill(value),
      width: 24,
      height: 12,
      path: cameraPath("PUSH_IN", { width: 24, height: 12 }, output),
    });
    for (const fps of [24, 30, 60]) {
      const sampler = new FrameSampler({ first: flat(0), last: flat(255), output, frameCount: 4 * fps, fps });
      const mixed = Array.from({ length: 4 * fps }, (_, i) => sampler.alphaAt(i)).filter(
        (a) => a > 0 && a < 256,
      );
      assert.ok(mixed.length > 0 && mixed.length / fps <= 0.6, `${fps} fps: ${mixed.length} blended frames`);
      const firstMixed = Array.from({ length: 4 * fps }, (_, i) => i).find((i) => sampler.alphaAt(i) > 0)!;
      assert.ok(Math.abs(firstMixed / fps + mixed.length / fps / 2 - 2) < 0.1, "centred on the middle");
    }
  });

  it("samples exactly frameCount yuv420p frames, into a fresh buffer or the caller's", () => {
    const width = 64;
    const height = 36;
    const rgb = new Uint8Array(80 * 45 * 3).fill(128);
    const photo = {
      rgb,
      width: 80,
      height: 45,
      path: cameraPath("PUSH_IN", { width: 80, height: 45 }, { width, height }),
    };
    const sampler = new FrameSampler({
      first: photo,
      last: null,
      output: { width, height },
      frameCount: 7,
      fps: 30,
    });
    assert.equal(sampler.frameCount, 7);
    assert.equal(sampler.frameBytes, width * height * 1.5);
    const frames = Array.from({ length: sampler.frameCount }, (_, index) => sampler.frame(index));
    for (const frame of frames) {
      assert.equal(frame.length, width * height * 1.5);
      // a whole buffer per frame: it can be transferred to another thread as it is
      assert.equal(frame.byteOffset, 0);
      assert.equal(frame.buffer.byteLength, frame.length);
      // mid-grey sRGB 128 → BT.709 limited range: Y 126, Cb = Cr = 128
      assert.equal(frame[0], 126);
      assert.equal(frame[width * height], 128);
    }
    assert.equal(new Set(frames.map((frame) => frame.buffer)).size, 7);
    // a reused buffer gets exactly the frame a fresh one would
    const reused = new Uint8Array(sampler.frameBytes).fill(255);
    for (const [index, frame] of frames.entries()) {
      assert.equal(sampler.frame(index, reused), reused);
      assert.deepEqual(reused, frame);
    }
    assert.throws(() => sampler.frame(0, new Uint8Array(10)), /too small/);
  });

  it("is deterministic and crossfades from the first photo into the last", () => {
    const output = { width: 32, height: 18 };
    const flat = (value: number) => ({
      rgb: new Uint8Array(48 * 27 * 3).fill(value),
      width: 48,
      height: 27,
      path: cameraPath("TRUCK_LEFT", { width: 48, height: 27 }, output),
    });
    const request = { first: flat(30), last: flat(220), output, frameCount: 31, fps: 10 };
    const a = new FrameSampler(request);
    const b = new FrameSampler(request);
    const lumas = Array.from({ length: 31 }, (_, index) => {
      const frame = a.frame(index);
      assert.deepEqual(frame, b.frame(index));
      return frame[0]!;
    });
    assert.equal(lumas[0], Math.floor(16.5 + (219 / 255) * 30));
    assert.equal(lumas[30], Math.floor(16.5 + (219 / 255) * 220));
    for (let i = 1; i < lumas.length; i += 1) assert.ok(lumas[i]! >= lumas[i - 1]!, `frame ${i} darker`);
  });
});
