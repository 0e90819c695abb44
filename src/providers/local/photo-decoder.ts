/**
 * The local renderer's photo decoding, done in the media worker thread that samples the frames
 * (so the decoded pixels never have to cross threads): sharp (libvips) decodes each photo once,
 * cropped to what the camera visits and scaled so the tightest viewport maps 1:1 onto the
 * output (the sampler never upscales), with the camera path in the result's pixels.
 *
 * For portrait and square outputs the move is framed on the photo's most salient region
 * (src/render/salient-region.ts: sharp's attention strategy on a small copy) instead of a blind
 * centre crop: a 9:16 frame keeps only a third of a landscape photo, and the centre third is
 * often a wall between the kitchen island and the window. Landscape outputs keep the centred
 * cover fit (a landscape photo loses little there, and the horizon stays where it was shot).
 */
import path from "node:path";
import type { CameraMove } from "../../domain/vocabulary.js";
import { AppError, isAppError } from "../../errors.js";
import sharp from "../../media/sharp.js";
import type { TimedLayerPng } from "../../render/frame-compositor.js";
import { FRAME_SIZE, RENDER_FORMATS, type RenderFormat } from "../../render/render-formats.js";
import { salientRegion } from "../../render/salient-region.js";
import { cameraPath, type Focus, pathBounds, type Size, type Viewport } from "./camera-move.js";
import type { FramesRequest, PhotoPixels } from "./frame-sampler.js";

/** A clip's frames as the provider asks for them: photo files, the move, the output. */
export interface VideoFramesRequest {
  firstImagePath: string;
  /** null: the first photo alone, no crossfade. */
  lastImagePath: string | null;
  cameraMove: CameraMove;
  output: Size;
  frameCount: number;
  fps: number;
  /** Layers blended into the frames of their window before encoding (title, caption, disclosure). */
  overlays?: TimedLayerPng[];
}

/** Decodes the clip's photos (both at once) into what the frame sampler needs. */
export async function decodeClipPhotos(request: VideoFramesRequest): Promise<FramesRequest> {
  const { cameraMove, output } = request;
  const [first, last] = await Promise.all([
    decodePhoto(request.firstImagePath, cameraMove, output),
    request.lastImagePath === null ? null : decodePhoto(request.lastImagePath, cameraMove, output),
  ]);
  return { first, last, output, frameCount: request.frameCount, fps: request.fps };
}

/** The render format of a portrait or square output size (by aspect), or null for landscape/other. */
export function framedFormat(output: Size): RenderFormat | null {
  if (output.width > output.height) return null;
  return (
    RENDER_FORMATS.find((format) => {
      const size = FRAME_SIZE[format];
      return size.width <= size.height && size.width * output.height === size.height * output.width;
    }) ?? null
  );
}

/**
 * Where the cover fit sits along the photo's free axis (camera-move.ts's Focus: 0 = left/top,
 * 1 = right/bottom) so that it covers `crop`, a rectangle of the output's aspect in photo pixels.
 */
export function focusOfCrop(
  crop: { x: number; y: number; width: number; height: number },
  photo: Size,
): Focus {
  const along = (offset: number, length: number, room: number) =>
    room - length > 0.5 ? Math.min(1, Math.max(0, offset / (room - length))) : 0.5;
  return { x: along(crop.x, crop.width, photo.width), y: along(crop.y, crop.height, photo.height) };
}

/** The focus of the photo's most salient region for a portrait/square output; centre otherwise. */
async function salientFocus(file: string, output: Size): Promise<Focus | undefined> {
  const format = framedFormat(output);
  if (!format) return undefined;
  const { crop, photo } = await salientRegion(file, format);
  return focusOfCrop(crop, photo);
}

/** One photo, decoded and prescaled for `move` at `output` size. */
export async function decodePhoto(file: string, move: CameraMove, output: Size): Promise<PhotoPixels> {
  try {
    const meta = await sharp(file, { autoOrient: true }).metadata();
    const source = { width: meta.autoOrient.width, height: meta.autoOrient.height };
    const sourcePath = cameraPath(move, source, output, await salientFocus(file, output));
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
