import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CAMERA_MOVES, OUTPUT_SIZE } from "../../src/domain/vocabulary.js";
import {
  CAMERA_POSES,
  cameraPath,
  cameraViewport,
  coverViewport,
  easeInOutSine,
  MAX_CAMERA_ZOOM,
  pathBounds,
  type Size,
  type Viewport,
  viewportAt,
} from "../../src/providers/local/camera-move.js";

const SOURCES: Record<string, Size> = {
  landscape4k: { width: 3840, height: 2160 },
  portrait: { width: 1600, height: 2161 },
  small: { width: 800, height: 533 },
  square: { width: 2000, height: 2000 },
  panorama: { width: 6000, height: 1500 },
};
const OUTPUTS = Object.values(OUTPUT_SIZE);
const FRAMES = 120;
const EPS = 1e-6;

const inside = (v: Viewport, source: Size) =>
  v.x >= -EPS && v.y >= -EPS && v.x + v.w <= source.width + EPS && v.y + v.h <= source.height + EPS;

describe("camera moves", () => {
  it("eases from 0 to 1 monotonically", () => {
    assert.equal(easeInOutSine(0), 0);
    assert.equal(easeInOutSine(1), 1);
    assert.ok(Math.abs(easeInOutSine(0.5) - 0.5) < 1e-12);
    for (let i = 1; i <= 100; i += 1) assert.ok(easeInOutSine(i / 100) >= easeInOutSine((i - 1) / 100));
  });

  it("cover-fits any source to the output aspect (portrait fills a 16:9 frame)", () => {
    const portrait = coverViewport(SOURCES.portrait!, OUTPUT_SIZE.LANDSCAPE_16_9);
    assert.equal(portrait.w, 1600);
    assert.ok(Math.abs(portrait.h - 900) < 1e-9);
    assert.ok(Math.abs(portrait.y - (2161 - 900) / 2) < 1e-9, "centre band");
    const wide = coverViewport(SOURCES.landscape4k!, OUTPUT_SIZE.PORTRAIT_9_16);
    assert.equal(wide.h, 2160);
    assert.ok(Math.abs(wide.w - 1215) < 1e-9);
  });

  for (const [sourceName, source] of Object.entries(SOURCES)) {
    for (const output of OUTPUTS) {
      it(`${sourceName} → ${output.width}x${output.height}: every move stays inside, exact aspect, smooth`, () => {
        const aspect = output.width / output.height;
        for (const move of CAMERA_MOVES) {
          const path = cameraPath(move, source, output);
          const bounds = pathBounds(path);
          const views: Viewport[] = [];
          for (let f = 0; f < FRAMES; f += 1) {
            const v = viewportAt(path, f / (FRAMES - 1));
            views.push(v);
            assert.ok(inside(v, source), `${move} frame ${f} leaves the image: ${JSON.stringify(v)}`);
            assert.ok(Math.abs(v.w / v.h - aspect) < 1e-9 * aspect, `${move} frame ${f} aspect ${v.w / v.h}`);
            assert.ok(v.w > 0 && v.h > 0);
            assert.ok(
              v.x >= bounds.x - EPS && v.x + v.w <= bounds.x + bounds.w + EPS,
              `${move} frame ${f} outside path bounds`,
            );
          }
          assertSmooth(move, views);
        }
      });
    }
  }

  it("moves in the named direction", () => {
    const source = SOURCES.landscape4k!;
    const out = OUTPUT_SIZE.LANDSCAPE_16_9;
    const at = (move: (typeof CAMERA_MOVES)[number], t: number) => cameraViewport(move, t, source, out);
    const centreX = (v: Viewport) => v.x + v.w / 2;
    const centreY = (v: Viewport) => v.y + v.h / 2;
    assert.ok(at("PUSH_IN", 1).w < at("PUSH_IN", 0).w);
    assert.ok(at("PULL_OUT", 1).w > at("PULL_OUT", 0).w);
    for (const move of ["TRUCK_LEFT", "PAN_LEFT", "ORBIT_LEFT"] as const) {
      assert.ok(centreX(at(move, 1)) < centreX(at(move, 0)), move);
    }
    for (const move of ["TRUCK_RIGHT", "PAN_RIGHT", "ORBIT_RIGHT"] as const) {
      assert.ok(centreX(at(move, 1)) > centreX(at(move, 0)), move);
    }
    assert.ok(centreY(at("CRANE_UP", 1)) < centreY(at("CRANE_UP", 0)));
    assert.ok(centreY(at("CRANE_DOWN", 1)) > centreY(at("CRANE_DOWN", 0)));
    assert.ok(at("ORBIT_LEFT", 1).w < at("ORBIT_LEFT", 0).w, "orbit also pushes in");
    // every move actually moves, by a visible but gentle amount (in output pixels)
    for (const move of CAMERA_MOVES) {
      const a = at(move, 0);
      const b = at(move, 1);
      const shift =
        (Math.abs(centreX(b) - centreX(a)) + Math.abs(centreY(b) - centreY(a))) * (out.width / a.w);
      const zoom = Math.abs(Math.log(b.w / a.w));
      assert.ok(shift > 40 || zoom > 0.05, `${move} barely moves`);
      assert.ok(shift < 400 && zoom < 0.25, `${move} moves too much`);
    }
  });

  it("reports the largest zoom the moves use", () => {
    const zooms = Object.values(CAMERA_POSES).flatMap((p) => [p.from.zoom, p.to.zoom]);
    assert.equal(MAX_CAMERA_ZOOM, Math.max(...zooms));
    assert.ok(MAX_CAMERA_ZOOM > 1 && MAX_CAMERA_ZOOM < 1.3);
  });

  it("starts and ends exactly on the path's end rectangles", () => {
    const path = cameraPath("ORBIT_LEFT", SOURCES.portrait!, OUTPUT_SIZE.SQUARE_1_1);
    assert.deepEqual(viewportAt(path, 0), { ...path.from, h: path.from.w * (path.from.h / path.from.w) });
    const end = viewportAt(path, 1);
    for (const key of ["x", "y", "w", "h"] as const) assert.ok(Math.abs(end[key] - path.to[key]) < 1e-9);
    // t outside [0, 1] is clamped
    assert.deepEqual(viewportAt(path, -1), viewportAt(path, 0));
    assert.deepEqual(viewportAt(path, 2), viewportAt(path, 1));
  });
});

/**
 * Per-frame motion of each edge must be monotonic (never reverses) and steady: no frame moves
 * much more than its neighbours (no stalls, jumps or stair-steps).
 */
function assertSmooth(move: string, views: Viewport[]): void {
  const edges = (v: Viewport) => [v.x, v.y, v.x + v.w, v.y + v.h];
  for (let e = 0; e < 4; e += 1) {
    const series = views.map((v) => edges(v)[e]!);
    const deltas = series.slice(1).map((value, i) => value - series[i]!);
    const total = series.at(-1)! - series[0]!;
    const sign = Math.sign(total);
    for (const delta of deltas) {
      assert.ok(delta * sign >= -1e-9, `${move} edge ${e} reverses`);
    }
    if (Math.abs(total) < 1e-6) continue;
    const peak = Math.max(...deltas.map(Math.abs));
    const mean = Math.abs(total) / deltas.length;
    assert.ok(peak <= 1.75 * mean, `${move} edge ${e} peak speed ${peak} vs mean ${mean}`);
    for (let i = 1; i < deltas.length; i += 1) {
      const jerk = Math.abs(deltas[i]! - deltas[i - 1]!);
      assert.ok(
        jerk <= 0.05 * mean + 1e-9,
        `${move} edge ${e} speed jumps at frame ${i}: ${jerk} (mean ${mean})`,
      );
    }
  }
}
