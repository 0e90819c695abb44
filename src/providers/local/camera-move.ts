/**
 * Camera moves over a still photo, as pure math: for a move and a progress t ∈ [0, 1], the
 * sub-pixel viewport (in source pixels) that the frame shows.
 *
 * The viewport starts from a "cover" fit (the largest rectangle of the output's aspect inside
 * the photo, so a portrait photo still fills a 16:9 frame) and each move is two poses (zoom and
 * offset). The poses are clamped inside the photo, and every frame is a blend of those two
 * rectangles: a blend of two rectangles inside the photo is inside the photo, so no frame can
 * ever show an edge, and motion never stalls against a border halfway through.
 *
 * A photo has no depth: truck and pan differ only in travel and zoom, crane moves vertically,
 * and orbit combines a lateral move with a push.
 */
import type { CameraMove } from "../../domain/vocabulary.js";

export interface Size {
  width: number;
  height: number;
}

/** A rectangle in source pixels (floats: sub-pixel positions are the point). */
export interface Viewport {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Zoom ≥ 1 relative to the cover fit; dx, dy as fractions of the cover fit's width/height. */
export interface CameraPose {
  zoom: number;
  dx: number;
  dy: number;
}

export interface CameraPath {
  from: Viewport;
  to: Viewport;
}

/** Where the cover fit sits in the photo along the axis that has room: 0..1, centre by default. */
export interface Focus {
  x: number;
  y: number;
}

const pose = (zoom: number, dx = 0, dy = 0): CameraPose => ({ zoom, dx, dy });

/** The moves. Positive dx moves the viewport right (the scene slides left), positive dy down. */
export const CAMERA_POSES: Readonly<Record<CameraMove, { from: CameraPose; to: CameraPose }>> = Object.freeze(
  {
    PUSH_IN: { from: pose(1), to: pose(1.15) },
    PULL_OUT: { from: pose(1.15), to: pose(1) },
    TRUCK_LEFT: { from: pose(1.15, 0.06), to: pose(1.15, -0.06) },
    TRUCK_RIGHT: { from: pose(1.15, -0.06), to: pose(1.15, 0.06) },
    PAN_LEFT: { from: pose(1.1, 0.04), to: pose(1.1, -0.04) },
    PAN_RIGHT: { from: pose(1.1, -0.04), to: pose(1.1, 0.04) },
    CRANE_UP: { from: pose(1.12, 0, 0.05), to: pose(1.12, 0, -0.05) },
    CRANE_DOWN: { from: pose(1.12, 0, -0.05), to: pose(1.12, 0, 0.05) },
    ORBIT_LEFT: { from: pose(1.08, 0.03), to: pose(1.18, -0.06) },
    ORBIT_RIGHT: { from: pose(1.08, -0.03), to: pose(1.18, 0.06) },
  },
);

/** The largest zoom any move uses: how much detail a prescaled photo needs beyond the frame. */
export const MAX_CAMERA_ZOOM = Math.max(
  ...Object.values(CAMERA_POSES).flatMap((move) => [move.from.zoom, move.to.zoom]),
);

/**
 * Share of the move spent speeding up (and, at the end, slowing down). Between the ramps the
 * camera glides at a steady speed, the way a dolly or gimbal operator moves: 1.43× the mean
 * speed at most (an ease-in-out sine peaks at 1.57×, smootherstep at 1.875×).
 */
export const EASE_RAMP = 0.3;

/**
 * The move's progress (0..1) at time t (0..1): a "smooth trapezoid" — speed rises along a raised
 * cosine over the first EASE_RAMP of the clip, holds, and falls the same way at the end. Speed
 * is zero at both ends and continuous, and so is acceleration (zero at the ends too): the camera
 * starts and settles without a kick, unlike a sine ease whose acceleration jumps at t = 0.
 */
export function easeInOut(t: number): number {
  const clamped = Math.min(1, Math.max(0, t));
  if (clamped > 0.5) return 1 - easeInOut(1 - clamped);
  const r = EASE_RAMP;
  const top = 1 / (1 - r); // the glide's speed: each ramp covers half of what the glide would
  if (clamped <= r) return top * (clamped / 2 - (r / (2 * Math.PI)) * Math.sin((Math.PI * clamped) / r));
  return top * (r / 2 + (clamped - r));
}

function assertSize(size: Size, what: string): void {
  if (!(size.width > 0 && size.height > 0 && Number.isFinite(size.width) && Number.isFinite(size.height))) {
    throw new Error(`${what} size must be positive: ${size.width}x${size.height}`);
  }
}

/** The largest output-aspect rectangle inside the source, placed at `focus` along the free axis. */
export function coverViewport(source: Size, output: Size, focus: Focus = { x: 0.5, y: 0.5 }): Viewport {
  assertSize(source, "source");
  assertSize(output, "output");
  const aspect = output.width / output.height;
  let w = source.width;
  let h = w / aspect;
  if (h > source.height) {
    h = source.height;
    w = h * aspect;
  }
  return {
    x: (source.width - w) * clamp01(focus.x),
    y: (source.height - h) * clamp01(focus.y),
    w,
    h,
  };
}

/** The viewport for a pose, clamped inside the source (same aspect as `base`). */
export function poseViewport(cameraPose: CameraPose, base: Viewport, source: Size): Viewport {
  const zoom = Math.max(1, cameraPose.zoom);
  const w = base.w / zoom;
  const h = base.h / zoom;
  const cx = base.x + base.w / 2 + cameraPose.dx * base.w;
  const cy = base.y + base.h / 2 + cameraPose.dy * base.h;
  return {
    x: clamp(cx - w / 2, 0, source.width - w),
    y: clamp(cy - h / 2, 0, source.height - h),
    w,
    h,
  };
}

/** The two end rectangles of a move over a source, for an output size. */
export function cameraPath(move: CameraMove, source: Size, output: Size, focus?: Focus): CameraPath {
  const poses = CAMERA_POSES[move];
  if (!poses) throw new Error(`unknown camera move: ${move}`);
  const base = coverViewport(source, output, focus);
  return { from: poseViewport(poses.from, base, source), to: poseViewport(poses.to, base, source) };
}

/**
 * The viewport at progress t (0..1, eased here). Size changes geometrically (a steady zoom
 * rate) and position follows the same blend weight, so the result is always a convex blend of
 * the two end rectangles: inside the source, with the ends' exact aspect.
 */
export function viewportAt(path: CameraPath, t: number): Viewport {
  const { from, to } = path;
  const eased = easeInOut(t);
  let weight = eased;
  if (Math.abs(to.w - from.w) > 1e-9 * from.w) {
    const w = from.w * (to.w / from.w) ** eased;
    weight = clamp01((w - from.w) / (to.w - from.w));
  }
  const w = from.w + (to.w - from.w) * weight;
  return {
    x: from.x + (to.x - from.x) * weight,
    y: from.y + (to.y - from.y) * weight,
    w,
    // from the width, so the aspect is the output's to the last bit
    h: w * (from.h / from.w),
  };
}

/** Convenience: the viewport of `move` at progress t over a source, for an output size. */
export function cameraViewport(
  move: CameraMove,
  t: number,
  source: Size,
  output: Size,
  focus?: Focus,
): Viewport {
  return viewportAt(cameraPath(move, source, output, focus), t);
}

/** The rectangle every viewport of the path lies in (the union of its two ends). */
export function pathBounds(path: CameraPath): Viewport {
  const x = Math.min(path.from.x, path.to.x);
  const y = Math.min(path.from.y, path.to.y);
  return {
    x,
    y,
    w: Math.max(path.from.x + path.from.w, path.to.x + path.to.w) - x,
    h: Math.max(path.from.y + path.from.h, path.to.y + path.to.h) - y,
  };
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(Math.max(value, min), max);
}

function clamp01(value: number): number {
  return clamp(value, 0, 1);
}
