/**
 * Reading rendered frames back the way a viewer would: frames extracted with FFmpeg, text read
 * by Tesseract OCR (Debian's `tesseract-ocr`), QR codes decoded with jsQR — never by asking our
 * own overlay code what it drew.
 */
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { after, before } from "node:test";
import { promisify } from "node:util";
import sharp from "sharp";
import { runFfmpeg, withTempDir } from "../../src/media/ffmpeg.runner.js";
import { type FfmpegBinaries, findOnPath, resolveFfmpegBinaries } from "../../src/media/ffmpeg-binaries.js";
import { args, fileUrl, normaliseClipArgs } from "../../src/media/ffmpeg-commands.js";

const run = promisify(execFile);
// jsQR is a CommonJS module whose typings declare an ES default export; require gives the function
const jsQR = createRequire(import.meta.url)("jsqr") as typeof import("jsqr").default;

export interface OcrWord {
  text: string;
  confidence: number;
  left: number;
  top: number;
  width: number;
  height: number;
}

export function tesseractBinary(): string {
  const found = findOnPath("tesseract", process.env.PATH);
  if (!found) throw new Error("tesseract is not installed (apt-get install tesseract-ocr)");
  return found;
}

/** One frame of a video as a PNG file (input seeking, then exact decode). */
export async function extractFrame(
  ffmpeg: string,
  video: string,
  atSeconds: number,
  outFile: string,
): Promise<string> {
  const argv = args`-hide_banner -nostdin -y -loglevel error -ss ${atSeconds.toFixed(3)} -protocol_whitelist file
    -i ${fileUrl(video)} -map 0:v:0 -frames:v 1 -f image2 -update 1 ${fileUrl(outFile)}`;
  await runFfmpeg(ffmpeg, argv, { timeoutMs: 60_000 });
  return outFile;
}

/** Words Tesseract finds (sparse text mode: overlays sit anywhere on a busy photo). */
export async function ocrWords(pngFile: string): Promise<OcrWord[]> {
  const { stdout } = await run(tesseractBinary(), [pngFile, "stdout", "--psm", "11", "tsv"], {
    timeout: 60_000,
    maxBuffer: 16 * 1024 * 1024,
    env: { ...process.env, OMP_THREAD_LIMIT: "1" },
  });
  const [header, ...rows] = stdout.trim().split("\n");
  const columns = header!.split("\t");
  const at = (name: string) => columns.indexOf(name);
  return rows
    .map((row) => row.split("\t"))
    .filter((cells) => cells[at("level")] === "5" && (cells[at("text")] ?? "").trim() !== "")
    .map((cells) => ({
      text: cells[at("text")]!.trim(),
      confidence: Number(cells[at("conf")]),
      left: Number(cells[at("left")]),
      top: Number(cells[at("top")]),
      width: Number(cells[at("width")]),
      height: Number(cells[at("height")]),
    }));
}

/** The OCR'd words as one lower-case line (for "contains" checks). */
export const ocrText = (words: readonly OcrWord[]): string =>
  words
    .map((word) => word.text)
    .join(" ")
    .toLowerCase();

/** The text of a QR code in the image, or null. */
export async function decodeQr(pngFile: string): Promise<string | null> {
  const { data, info } = await sharp(await readFile(pngFile))
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const code = jsQR(
    new Uint8ClampedArray(data.buffer, data.byteOffset, data.length),
    info.width,
    info.height,
  );
  // jsQR now and then "finds" a code with an empty payload in photo texture (a window grid that
  // looks like finder patterns); a code of ours always carries the listing URL.
  return code?.data ? code.data : null;
}

/** OCR words and QR content of the frame at `atSeconds`. */
export async function readFrame(
  ffmpeg: string,
  video: string,
  atSeconds: number,
  workDir: string,
): Promise<{ words: OcrWord[]; text: string; qr: string | null; file: string }> {
  const file = await extractFrame(
    ffmpeg,
    video,
    atSeconds,
    path.join(workDir, `frame-${path.basename(video)}-${atSeconds}.png`),
  );
  const [words, qr] = await Promise.all([ocrWords(file), decodeQr(file)]);
  return { words, text: ocrText(words), qr, file };
}

/** House-encoded still clips (the photo held for `seconds`) for overlay tests: quick to make. */
export async function stillClips(
  ffmpeg: string,
  workDir: string,
  photos: readonly string[],
  size: { width: number; height: number; seconds: number },
): Promise<string[]> {
  const files: string[] = [];
  for (const [index, photo] of photos.entries()) {
    const outFile = path.join(workDir, `clip-${index}.mp4`);
    await runFfmpeg(ffmpeg, normaliseClipArgs({ inFile: photo, outFile, ...size }), { timeoutMs: 120_000 });
    files.push(outFile);
  }
  return files;
}

/** How two frames differ: the mean absolute difference of grey levels, overall and in the worst 32×32 block. */
export async function frameDifference(
  aFile: string,
  bFile: string,
): Promise<{ mean: number; worstBlock: number }> {
  const grey = (file: string) => sharp(file).greyscale().raw().toBuffer({ resolveWithObject: true });
  const [a, b] = await Promise.all([grey(aFile), grey(bFile)]);
  if (a.info.width !== b.info.width || a.info.height !== b.info.height)
    throw new Error("frames differ in size");
  const { width, height } = a.info;
  const block = 32;
  const columns = Math.ceil(width / block);
  const sums = new Float64Array(columns * Math.ceil(height / block));
  let total = 0;
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const diff = Math.abs(a.data[y * width + x]! - b.data[y * width + x]!);
      total += diff;
      sums[Math.floor(y / block) * columns + Math.floor(x / block)]! += diff;
    }
  }
  return { mean: total / (width * height), worstBlock: Math.max(...sums) / (block * block) };
}

/** Whitespace-insensitive "contains" (OCR splits and joins words at will). */
export const ocrContains = (text: string, expected: string): boolean =>
  text.replace(/\s+/g, "").includes(expected.toLowerCase().replace(/\s+/g, ""));

/** Mean R, G, B of a region of a PNG (sharp's stats() reads the whole input, so extract first). */
export async function regionMean(
  file: string,
  region: { left: number; top: number; width: number; height: number },
): Promise<number[]> {
  const crop = await sharp(file).extract(region).png().toBuffer();
  const stats = await sharp(crop).stats();
  return stats.channels.slice(0, 3).map((channel) => Math.round(channel.mean));
}

/**
 * A temp dir for a whole test file: made and filled by `setup` before the first test, removed
 * after the last (withTempDir's cleanup, held open in between).
 */
export function tempDirForFile(prefix: string, setup: (dir: string) => Promise<void>): { path(): string } {
  let dir = "";
  let release: () => void = () => {};
  let done: Promise<unknown> = Promise.resolve();
  before(async () => {
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    await new Promise<void>((ready, failed) => {
      done = withTempDir(prefix, async (created) => {
        dir = created;
        try {
          await setup(created);
          ready();
        } catch (error) {
          failed(error);
        }
        await held;
      });
    });
  });
  after(async () => {
    release();
    await done;
  });
  return { path: () => dir };
}

/** FFmpeg for the render tests: PROPVID_TEST_FFMPEG/FFPROBE if set, else PATH, else the bundled build. */
export function testFfmpegBinaries(): FfmpegBinaries {
  return resolveFfmpegBinaries({
    ffmpegPath: process.env.PROPVID_TEST_FFMPEG,
    ffprobePath: process.env.PROPVID_TEST_FFPROBE,
    searchPath: process.env.PATH,
  });
}
