/**
 * A camera-size JPEG for the memory and ingest measures, and distinct copies of it.
 */
import sharp from "sharp";

/** A ~45 MB JPEG: 16.8 MP of noise at quality 100 (the real bytes of a large camera file). */
export async function largeCameraJpeg(): Promise<Buffer> {
  return await sharp({
    create: {
      width: 4800,
      height: 3500,
      channels: 3,
      background: "#808080",
      noise: { type: "gaussian", mean: 128, sigma: 60 },
    },
  })
    .jpeg({ quality: 100, chromaSubsampling: "4:4:4" })
    .toBuffer();
}

/**
 * A JPEG comment segment (COM), to go right after the SOI marker: it makes a copy's bytes (and
 * SHA-256) different, the picture the same.
 */
export function jpegCommentSegment(text: string): Buffer {
  const body = Buffer.from(text);
  const header = Buffer.from([0xff, 0xfe, 0, 0]);
  header.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([header, body]);
}
