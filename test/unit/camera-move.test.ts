import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CAMERA_MOVES, OUTPUT_SIZE } from "../../src/domain/vocabulary.js";
import {
  CAMERA_POSES,
  cameraPath,
  cameraViewport,
  coverViewport,
  EASE_RAMP,
  easeInOut,
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
  it("eases from 0 to 1 monotonically, symmetric about the middle", () => {
    assert.equal(easeInOut(0), 0);
    assert.equal(easeInOut(1), 1);
    assert.ok(Math.abs(easeInOut(0.5) - 0.5) < 1e-12);
    for (let i = 1; i <= 1000; i += 1) {
      assert.ok(easeInOut(i / 1000) >= easeInOut((i - 1) / 1000));
      assert.ok(Math.abs(easeInOut(i / 1000) + easeInOut(1 - i / 1000) - 1) < 1e-12);
    }
  });

  it("eases in and out: zero speed at both ends, speed and acceleration continuous, a steady glide", () => {
    // finite differences of the position: speed v and acceleration a on a fine grid
    const n = 20_000;
    const h = 1 / n;
    const v = (t: number) => (easeInOut(t + h / 2) - easeInOut(t - h / 2)) / h;
    const a = (t: number) => (v(t + h / 2) - v(t - h / 2)) / h;
    // the first and last frames of a 4 s clip at 30 fps barely move: the camera starts from rest
    assert.ok(easeInOut(1 / 119) < 1e-4 && 1 - easeInOut(118 / 119) < 1e-4);
    assert.ok(v(h) < 1e-3 && v(1 - h) < 1e-3, `speed at the ends ${v(h)}, ${v(1 - h)}`);
    assert.ok(Math.abs(a(2 * h)) < 0.05 && Math.abs(a(1 - 2 * h)) < 0.05, "no kick at the start or end");
    let peak = 0;
    let worstSpeedStep = 0;
    let worstAccelerationStep = 0;
    for (let i = 2; i < n - 2; i += 1) {
      const t = i * h;
      peak = Math.max(peak, v(t));
      worstSpeedStep = Math.max(worstSpeedStep, Math.abs(v(t + h) - v(t)));
      worstAccelerationStep = Math.max(worstAccelerationStep, Math.abs(a(t + h) - a(t)));
    }
    // continuous: between neighbouring points 1/20000 apart, no jump of speed or acceleration
    assert.ok(worstSpeedStep < 1e-3, `speed jumps by ${worstSpeedStep}`);
    assert.ok(worstAccelerationStep < 0.05, `acceleration jumps by ${worstAccelerationStep}`);
    // between the ramps the camera glides at one speed, gentler than a sine ease's peak (π/2)
    assert.ok(Math.abs(peak - 1 / (1 - EASE_RAMP)) < 1e-3, `peak speed ${peak}`);
    for (const t of [EASE_RAMP + 0.01, 0.5, 1 - EASE_RAMP - 0.01]) assert.ok(Math.abs(v(t) - peak) < 1e-6);
    assert.ok(peak < Math.PI / 2);
  });

  it("moves every edge of the viewport with zero speed at the clip's ends", () => {
    const path = cameraPath("ORBIT_RIGHT", SOURCES.landscape4k!, OUTPUT_SIZE.LANDSCAPE_16_9);
    const edges = (v: Viewport) => [v.x, v.y, v.x + v.w, v.y + v.h];
    const h = 1e-4;
    const speed = (t: number) => {
      const a = edges(viewportAt(path, t));
      const b = edges(viewportAt(path, t + h));
      return Math.max(...a.map((value, i) => Math.abs(b[i]! - value) / h));
    };
    const middle = speed(0.5);
    assert.ok(middle > 100, `moves mid-clip (${middle.toFixed(1)} px per clip)`);
    assert.ok(speed(0) < middle * 1e-3, "starts from rest");
    assert.ok(speed(1 - h) < middle * 1e-3, "ends at rest");
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
    assert.ok(peak <= 1.5 * mean, `${move} edge ${e} peak speed ${peak} vs mean ${mean}`);
    // The ramps' steepest acceleration changes the speed by ~6 % of the mean a frame (at 120
    // frames); a stall, a jump or a stair-step changes it by the order of the speed itself.
    for (let i = 1; i < deltas.length; i += 1) {
      const jerk = Math.abs(deltas[i]! - deltas[i - 1]!);
      assert.ok(
        jerk <= 0.08 * mean + 1e-9,
        `${move} edge ${e} speed jumps at frame ${i}: ${jerk} (mean ${mean})`,
      );
    }
  }
}
