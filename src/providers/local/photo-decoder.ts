/**
 * The local renderer's photo decoding, done in the media worker thread that samples the frames
 * (so the decoded pixels never have to cross threads): sharp (libvips) decodes each photo once,
 * cropped to what the camera visits and scaled so the tightest viewport maps 1:1 onto the
 * output (the sampler never upscales), with the camera path in the result's pixels.
 */
import path from "node:path";
import sharp from "sharp";
import { AppError, isAppError } from "../../errors.js";
import type { TimedLayerPng } from "../../render/frame-compositor.js";
import type { CameraMove } from "../types.js";
import { cameraPath, pathBounds, type Size, type Viewport } from "./camera-move.js";
import type { FramesRequest, PhotoPixels } from "./frame-sampler.js";

/** A clip's frames as the provider asks for them: photo files, the move, the output. */
export interface VideoFramesRequest {
  firstImagePath: string;
  /** null: the first photo alone, no crossfade. */
  lastImagePath: string | null;
  cameraMove: CameraMove;
  output: Size;
  frameCount: number;
  /** Layers blended into the frames of their window before encoding (title, caption, disclosure). */
  overlays?: { fps: number; layers: TimedLayerPng[] };
}

/** Decodes the clip's photos (both at once) into what the frame sampler needs. */
export async function decodeClipPhotos(request: VideoFramesRequest): Promise<FramesRequest> {
  const { cameraMove, output } = request;
  const [first, last] = await Promise.all([
    decodePhoto(request.firstImagePath, cameraMove, output),
    request.lastImagePath === null ? null : decodePhoto(request.lastImagePath, cameraMove, output),
  ]);
  return { first, last, output, frameCount: request.frameCount };
}

/** One photo, decoded and prescaled for `move` at `output` size. */
export async function decodePhoto(file: string, move: CameraMove, output: Size): Promise<PhotoPixels> {
  try {
    const meta = await sharp(file, { autoOrient: true }).metadata();
    const source = { width: meta.autoOrient.width, height: meta.autoOrient.height };
    const sourcePath = cameraPath(move, source, output);
    // Crop to what the camera visits (plus a margin for the sampler's neighbours)...
    const bounds = pathBounds(sourcePath);
    const left = Math.max(0, Math.floor(bounds.x) - 2);
    const top = Math.max(0, Math.floor(bounds.y) - 2);
    const region = {
      left,
      top,
      width: Math.min(source.width, Math.ceil(bounds.x + bounds.w) + 2) - left,
      height: Math.min(source.height, Math.ceil(bounds.y + bounds.h) + 2) - top,
    };
    // ...and scale so the tightest viewport maps 1:1 onto the output.
    const tightest = Math.min(sourcePath.from.w, sourcePath.to.w);
    const scale = output.width / tightest;
    const workWidth = Math.max(2, Math.round(region.width * scale));
    const workHeight = Math.max(2, Math.round(region.height * scale));
    const { data, info } = await sharp(file, { autoOrient: true })
      .extract(region)
      .resize(workWidth, workHeight, { fit: "fill", kernel: "lanczos3" })
      .flatten({ background: "#000000" })
      .toColourspace("srgb")
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || info.width !== workWidth || info.height !== workHeight) {
      throw new Error(`unexpected decode: ${info.width}x${info.height}x${info.channels}`);
    }
    const sx = workWidth / region.width;
    const sy = workHeight / region.height;
    const toWork = (viewport: Viewport): Viewport => ({
      x: (viewport.x - region.left) * sx,
      y: (viewport.y - region.top) * sy,
      w: viewport.w * sx,
      h: viewport.h * sy,
    });
    return {
      rgb: data,
      width: workWidth,
      height: workHeight,
      path: { from: toWork(sourcePath.from), to: toWork(sourcePath.to) },
    };
  } catch (error) {
    if (isAppError(error)) throw error;
    throw new AppError("MEDIA_REJECTED", `photo could not be decoded: ${path.basename(file)}`, {
      cause: error,
    });
  }
}
