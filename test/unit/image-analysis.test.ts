import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { crc32 } from "node:zlib";
import sharp from "sharp";
import { AppError } from "../../src/errors.js";
import { analyzeImage, type ImageAnalysis, qualityFlags } from "../../src/media/image-analysis.js";
import {
  IMAGE_CONTENT_TYPES,
  readDeclaredDimensions,
  sniffImageFormat,
} from "../../src/media/image-format.js";
import {
  colourfulness,
  colourStats,
  differenceHash,
  gradientStats,
  hammingDistance,
  laplacianVariance,
  lumaStats,
  toGreyscale,
} from "../../src/media/image-metrics.js";
import { FIXTURE_PHOTOS_DIR, fixturePhoto, fixturePhotoNames, isKeeper } from "../helpers/fixtures.js";

const MAX_PIXELS = 50_000_000;

// Analysed once for the whole file: every fixture test below reads from this.
const names = fixturePhotoNames();
const analyses = new Map<string, ImageAnalysis>();
const timings: number[] = [];
for (const name of names) {
  const bytes = readFileSync(fixturePhoto(name));
  const started = performance.now();
  analyses.set(name, await analyzeImage(bytes, { maxPixels: MAX_PIXELS }));
  timings.push(performance.now() - started);
}
const analysis = (name: string): ImageAnalysis => analyses.get(name)!;

/** WxH column of SOURCES.md, so the test checks against what the fixture curator measured. */
function sourcesDimensions(): Map<string, { width: number; height: number }> {
  const text = readFileSync(path.join(FIXTURE_PHOTOS_DIR, "SOURCES.md"), "utf8");
  const sizes = new Map<string, { width: number; height: number }>();
  for (const match of text.matchAll(/^\| `([^`]+\.jpg)` \|.*?\| (\d+)x(\d+) \|/gm)) {
    sizes.set(match[1]!, { width: Number(match[2]), height: Number(match[3]) });
  }
  return sizes;
}

async function rejects(promise: Promise<unknown>, code: string, reason?: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof AppError, `expected AppError, got ${String(error)}`);
    assert.equal(error.code, code);
    if (reason) assert.equal(error.details?.["reason"], reason);
    return true;
  });
}

function pngHeader(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const typeAndData = Buffer.concat([Buffer.from("IHDR"), ihdr]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndData));
  const length = Buffer.alloc(4);
  length.writeUInt32BE(13);
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, length, typeAndData, crc, Buffer.alloc(64)]);
}

function jpegHeader(width: number, height: number): Buffer {
  const app0 = [0xff, 0xe0, 0x00, 0x10, ...Buffer.from("JFIF\0"), 1, 1, 0, 0, 1, 0, 1, 0, 0];
  const sof0 = [0xff, 0xc0, 0x00, 0x11, 8, height >> 8, height & 0xff, width >> 8, width & 0xff, 3];
  const components = [1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1];
  return Buffer.from([0xff, 0xd8, ...app0, ...sof0, ...components, 0xff, 0xd9]);
}

/** w×h grey image from a function of (x, y). */
function synthetic(width: number, height: number, value: (x: number, y: number) => number): Uint8Array {
  const grey = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) grey[y * width + x] = value(x, y);
  return grey;
}

describe("sniffImageFormat", () => {
  it("recognises every supported format by its magic bytes", async () => {
    const base = sharp({ create: { width: 16, height: 12, channels: 3, background: "#336699" } });
    assert.equal(sniffImageFormat(await base.clone().jpeg().toBuffer()), "jpeg");
    assert.equal(sniffImageFormat(await base.clone().png().toBuffer()), "png");
    assert.equal(sniffImageFormat(await base.clone().webp().toBuffer()), "webp");
    assert.equal(sniffImageFormat(await base.clone().gif().toBuffer()), "gif");
    assert.equal(sniffImageFormat(await base.clone().avif().toBuffer()), "avif");
  });

  it("tells HEIC from AVIF by the ftyp brands", () => {
    const ftyp = (major: string, ...compatible: string[]) => {
      const body = Buffer.from(`ftyp${major}\0\0\0\0${compatible.join("")}`, "latin1");
      const size = Buffer.alloc(4);
      size.writeUInt32BE(body.length + 4);
      return Buffer.concat([size, body, Buffer.alloc(32)]);
    };
    assert.equal(sniffImageFormat(ftyp("heic", "mif1", "heic")), "heif");
    assert.equal(sniffImageFormat(ftyp("mif1", "mif1", "heic")), "heif");
    assert.equal(sniffImageFormat(ftyp("mif1", "mif1", "avif")), "avif");
    assert.equal(sniffImageFormat(ftyp("avis", "avis", "msf1")), "avif");
    // An MP4 video is ISO-BMFF too, but not an image.
    assert.equal(sniffImageFormat(ftyp("isom", "isom", "mp42")), null);
  });

  it("returns null for HTML, PDF, SVG, text and tiny inputs", () => {
    for (const text of [
      "<!DOCTYPE html><html><body>hi</body></html>",
      "%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
      '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
      '<svg xmlns="http://www.w3.org/2000/svg"><rect width="1" height="1"/></svg>',
      "just some text",
    ]) {
      assert.equal(sniffImageFormat(Buffer.from(text)), null, text);
    }
    assert.equal(sniffImageFormat(Buffer.alloc(0)), null);
    assert.equal(sniffImageFormat(Buffer.from([0xff, 0xd8])), null);
  });

  it("maps formats to content types", () => {
    assert.equal(IMAGE_CONTENT_TYPES.jpeg, "image/jpeg");
    assert.equal(IMAGE_CONTENT_TYPES.avif, "image/avif");
    assert.equal(Object.keys(IMAGE_CONTENT_TYPES).length, 6);
  });
});

describe("readDeclaredDimensions", () => {
  it("reads width and height from headers of every format without decoding", async () => {
    const base = sharp({ create: { width: 321, height: 123, channels: 3, background: "#808080" } });
    const encoded = [
      await base.clone().jpeg().toBuffer(),
      await base.clone().png().toBuffer(),
      await base.clone().webp().toBuffer(),
      await base.clone().webp({ lossless: true }).toBuffer(),
      await base.clone().webp().withMetadata({ orientation: 1 }).toBuffer(),
      await base.clone().gif().toBuffer(),
      await base.clone().avif().toBuffer(),
    ];
    for (const bytes of encoded) {
      assert.deepEqual(readDeclaredDimensions(bytes), { width: 321, height: 123 }, sniffImageFormat(bytes)!);
    }
  });

  it("reads the fixture JPEGs' SOF past their EXIF and ICC segments", () => {
    const sizes = sourcesDimensions();
    for (const name of names) {
      assert.deepEqual(readDeclaredDimensions(readFileSync(fixturePhoto(name))), sizes.get(name), name);
    }
  });

  it("reads crafted bomb headers and returns null for non-images", () => {
    assert.deepEqual(readDeclaredDimensions(pngHeader(14000, 14000)), { width: 14000, height: 14000 });
    assert.deepEqual(readDeclaredDimensions(jpegHeader(65535, 65535)), { width: 65535, height: 65535 });
    assert.equal(readDeclaredDimensions(Buffer.from("<html></html>")), null);
    assert.equal(readDeclaredDimensions(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00])), null);
  });
});

describe("pure metrics", () => {
  it("laplacianVariance: 0 on flat, exact on a checkerboard", () => {
    assert.equal(
      laplacianVariance(
        synthetic(20, 20, () => 128),
        20,
        20,
      ),
      0,
    );
    // Every interior pixel of a 0/255 checkerboard has a Laplacian of ±4·255.
    const checker = synthetic(20, 20, (x, y) => ((x + y) % 2 === 0 ? 0 : 255));
    assert.equal(laplacianVariance(checker, 20, 20), 1020 ** 2);
    assert.equal(laplacianVariance(new Uint8Array(4), 2, 2), 0);
  });

  it("gradientStats: horizontal stripes have no horizontal energy (motion-blur shape)", () => {
    const stripes = synthetic(30, 30, (_x, y) => (y % 2 === 0 ? 40 : 200));
    const g = gradientStats(stripes, 30, 30);
    assert.equal(g.horizontal, 0);
    assert.ok(g.vertical > 0);
    // Sideways smear of random noise: horizontal second differences collapse, vertical stay.
    let seed = 7;
    const noise = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % 256;
    };
    const raw = synthetic(60, 60, () => noise());
    const smeared = synthetic(60, 60, (x, y) => {
      let sum = 0;
      for (let dx = -4; dx <= 4; dx++) sum += raw[y * 60 + Math.min(59, Math.max(0, x + dx))]!;
      return Math.round(sum / 9);
    });
    const s = gradientStats(smeared, 60, 60);
    assert.ok(s.horizontal < s.vertical / 10, JSON.stringify(s));
  });

  it("differenceHash: rising / falling ramps give all ones / all zeros; hamming counts bits", () => {
    const rising = synthetic(90, 80, (x) => x * 2);
    const falling = synthetic(90, 80, (x) => 255 - x * 2);
    assert.equal(differenceHash(rising, 90, 80), "ffffffffffffffff");
    assert.equal(differenceHash(falling, 90, 80), "0000000000000000");
    assert.equal(hammingDistance("ffffffffffffffff", "0000000000000000"), 64);
    assert.equal(hammingDistance("8000000000000001", "0000000000000000"), 2);
    assert.equal(hammingDistance("abcdef0123456789", "ABCDEF0123456789"), 0);
    assert.throws(() => hammingDistance("ff", "fff"), RangeError);
    assert.throws(() => hammingDistance("zz", "00"), RangeError);
  });

  it("colourfulness: grey is 0, saturated red is σ 0 + 0.3·|μ|", () => {
    const grey = new Uint8Array(300).fill(128);
    assert.equal(colourfulness(grey, 3), 0);
    const red = new Uint8Array(300);
    for (let p = 0; p < 300; p += 3) red[p] = 255;
    assert.ok(Math.abs(colourfulness(red, 3) - 0.3 * Math.hypot(255, 127.5)) < 1e-9);
    const stats = colourStats(red, 3);
    assert.deepEqual(stats.meanColour, [255, 0, 0]);
    assert.equal(stats.histogram[0b110000], 1);
    // RGBA input: the alpha byte is skipped.
    const rgba = new Uint8Array([255, 0, 0, 9, 255, 0, 0, 9]);
    assert.deepEqual(colourStats(rgba, 4).meanColour, [255, 0, 0]);
  });

  it("toGreyscale uses Rec.601 weights; lumaStats counts clipping", () => {
    assert.deepEqual(
      [...toGreyscale(new Uint8Array([255, 0, 0, 0, 255, 0, 0, 0, 255]), 3, 1, 3)],
      [76, 150, 29],
    );
    const stats = lumaStats(new Uint8Array([0, 0, 255, 255, 128, 128, 128, 128]));
    assert.equal(stats.paperFraction, 0.25);
    assert.equal(stats.shadowClip, 0.25);
    assert.equal(stats.highlightClip, 0.25);
    assert.ok(Math.abs(stats.mean - (510 + 512) / 8 / 255) < 1e-12);
  });

  it("qualityFlags: low resolution and a clean photo", () => {
    const luma = { mean: 0.5, shadowClip: 0, highlightClip: 0, paperFraction: 0.05, darkFraction: 0.3 };
    const clean = { width: 1600, height: 1067, sharpness: 500, directionalSharpness: 80, blurIsotropy: 0.4 };
    assert.deepEqual(qualityFlags({ ...clean, colourfulness: 30, luma }), []);
    assert.deepEqual(qualityFlags({ ...clean, width: 400, height: 300, colourfulness: 30, luma }), [
      "LOW_RESOLUTION",
    ]);
    const burnt = { ...luma, mean: 0.9, highlightClip: 0.5, paperFraction: 0.6 };
    assert.deepEqual(qualityFlags({ ...clean, colourfulness: 30, luma: burnt }), ["OVEREXPOSED"]);
  });
});

describe("analyzeImage on the fixture photos", () => {
  it(`analyses all ${names.length} photos with sizes matching SOURCES.md`, (t) => {
    assert.equal(names.length, 37);
    const sizes = sourcesDimensions();
    for (const name of names) {
      const a = analysis(name);
      assert.equal(a.format, "jpeg");
      assert.deepEqual({ width: a.width, height: a.height }, sizes.get(name), name);
      assert.match(a.dhash, /^[0-9a-f]{16}$/);
      assert.ok(a.exposure > 0 && a.exposure < 1);
      assert.equal(a.meanColour.length, 3);
      assert.equal(a.colourHistogram.length, 64);
      assert.equal(a.greyVector.length, 64);
    }
    const sorted = [...timings].sort((x, y) => x - y);
    t.diagnostic(
      `analysis ms/photo: median ${sorted[sorted.length >> 1]!.toFixed(0)}, max ${sorted.at(-1)!.toFixed(0)}`,
    );
  });

  it("makes 512-px JPEG thumbnails", async () => {
    for (const name of ["living-01.jpg", "bath-01.jpg", "exterior-05.jpg"]) {
      const meta = await sharp(analysis(name).thumbnail).metadata();
      assert.equal(meta.format, "jpeg");
      assert.equal(Math.max(meta.width, meta.height), 512, name);
    }
    const portrait = await sharp(analysis("bath-01.jpg").thumbnail).metadata();
    assert.ok(portrait.height > portrait.width);
  });

  it("flags BLURRY on both blurry rejects (incl. motion blur) and on no keeper", () => {
    assert.ok(analysis("reject-blurry-01.jpg").flags.includes("BLURRY"));
    assert.ok(analysis("reject-blurry-02.jpg").flags.includes("BLURRY"));
    // The hard case: a plain Laplacian cannot tell these two apart…
    const motion = analysis("reject-blurry-02.jpg");
    const bath = analysis("bath-01.jpg");
    assert.ok(Math.abs(motion.sharpness - bath.sharpness) < 40, `${motion.sharpness} vs ${bath.sharpness}`);
    // …the weakest direction can.
    assert.ok(motion.blurIsotropy < 0.05 && bath.blurIsotropy > 0.2);
    for (const name of names.filter(isKeeper)) assert.ok(!analysis(name).flags.includes("BLURRY"), name);
  });

  it("flags DARK on reject-dark-01 only, not on the dim dining-01", () => {
    assert.deepEqual(analysis("reject-dark-01.jpg").flags, ["DARK"]);
    assert.ok(analysis("dining-01.jpg").exposure < 0.35);
    for (const name of names.filter((n) => n !== "reject-dark-01.jpg")) {
      assert.ok(!analysis(name).flags.includes("DARK"), name);
    }
  });

  it("flags DOCUMENT on the floor plan only", () => {
    assert.deepEqual(analysis("reject-floorplan-01.jpg").flags, ["DOCUMENT"]);
    for (const name of names.filter((n) => n !== "reject-floorplan-01.jpg")) {
      assert.ok(!analysis(name).flags.includes("DOCUMENT"), name);
    }
  });

  it("leaves every keeper unflagged", () => {
    for (const name of names.filter(isKeeper)) assert.deepEqual(analysis(name).flags, [], name);
  });

  it("puts duplicates within a few dHash bits and unrelated photos far apart", () => {
    const distance = (a: string, b: string) => hammingDistance(analysis(a).dhash, analysis(b).dhash);
    assert.ok(distance("dining-03.jpg", "reject-dup-of-dining-03.jpg") <= 4);
    assert.ok(distance("living-01.jpg", "reject-dup-of-living-01.jpg") <= 4);
    const keepers = names.filter(isKeeper);
    let closest = 64;
    for (let i = 0; i < keepers.length; i++) {
      for (let j = i + 1; j < keepers.length; j++)
        closest = Math.min(closest, distance(keepers[i]!, keepers[j]!));
    }
    assert.ok(closest >= 16, `closest unrelated pair is ${closest} bits apart`);
  });
});

describe("analyzeImage rejections", () => {
  // The header alone carries no decodable pixels: PIXEL_LIMIT (not CORRUPT) shows the declared
  // size was refused before any decode. How fast that is, is measured at the integration tier.
  it("rejects a PNG declaring 14000×14000 before decoding", async () => {
    await rejects(
      analyzeImage(pngHeader(14000, 14000), { maxPixels: MAX_PIXELS }),
      "MEDIA_REJECTED",
      "PIXEL_LIMIT",
    );
  });

  it("rejects a tiny JPEG whose SOF declares 65535×65535 before decoding", async () => {
    await rejects(
      analyzeImage(jpegHeader(65535, 65535), { maxPixels: MAX_PIXELS }),
      "MEDIA_REJECTED",
      "PIXEL_LIMIT",
    );
  });

  it("rejects a real photo over a small pixel limit", async () => {
    const bytes = readFileSync(fixturePhoto("exterior-05.jpg"));
    await rejects(analyzeImage(bytes, { maxPixels: 100_000 }), "MEDIA_REJECTED", "PIXEL_LIMIT");
  });

  it("rejects a truncated JPEG as corrupt", async () => {
    const bytes = readFileSync(fixturePhoto("kitchen-01.jpg"));
    await rejects(
      analyzeImage(bytes.subarray(0, bytes.length >> 1), { maxPixels: MAX_PIXELS }),
      "MEDIA_REJECTED",
      "CORRUPT",
    );
  });

  it("rejects a PNG with a damaged IDAT (bad CRC) as corrupt", async () => {
    const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: "#a0522d" } })
      .png()
      .toBuffer();
    const bad = Buffer.from(png);
    bad[png.indexOf("IDAT") + 8]! ^= 0xff;
    await rejects(analyzeImage(bad, { maxPixels: MAX_PIXELS }), "MEDIA_REJECTED", "CORRUPT");
  });

  it("refuses HTML, PDF and SVG as unsupported media", async () => {
    for (const text of [
      "<html><body></body></html>",
      "%PDF-1.4\n%âãÏÓ\n",
      '<svg xmlns="http://www.w3.org/2000/svg"/>',
    ]) {
      await rejects(analyzeImage(Buffer.from(text), { maxPixels: MAX_PIXELS }), "UNSUPPORTED_MEDIA_TYPE");
    }
  });
});

describe("analyzeImage on generated images", () => {
  it("flags a line drawing on grey scanner paper as DOCUMENT", async () => {
    const walls = [
      '<rect x="40" y="40" width="1120" height="720" fill="none" stroke="#111" stroke-width="8"/>',
      '<line x1="600" y1="40" x2="600" y2="500" stroke="#111" stroke-width="6"/>',
      '<line x1="40" y1="420" x2="900" y2="420" stroke="#111" stroke-width="6"/>',
      '<text x="200" y="250" font-size="40" fill="#222">Living 24 m2</text>',
    ].join("");
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="800"><rect width="1200" height="800" fill="#dcdcd8"/>${walls}</svg>`;
    const scan = await sharp(Buffer.from(svg)).jpeg({ quality: 85 }).toBuffer();
    const a = await analyzeImage(scan, { maxPixels: MAX_PIXELS });
    assert.deepEqual(a.flags, ["DOCUMENT"]);
  });

  it("applies EXIF orientation to the size and the thumbnail", async () => {
    const rotated = await sharp({ create: { width: 600, height: 400, channels: 3, background: "#2e8b57" } })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const a = await analyzeImage(rotated, { maxPixels: MAX_PIXELS });
    assert.deepEqual([a.width, a.height], [400, 600]);
    const thumb = await sharp(a.thumbnail).metadata();
    assert.deepEqual([thumb.width, thumb.height], [341, 512]);
  });

  it("handles greyscale and transparent PNGs, flags a tiny one LOW_RESOLUTION", async () => {
    const grey = await sharp({ create: { width: 300, height: 200, channels: 3, background: "#777777" } })
      .greyscale()
      .png()
      .toBuffer();
    const g = await analyzeImage(grey, { maxPixels: MAX_PIXELS });
    assert.equal(g.format, "png");
    assert.ok(g.flags.includes("LOW_RESOLUTION"));
    assert.ok(g.colourfulness < 1);
    const clear = await sharp({
      create: { width: 200, height: 100, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } },
    })
      .png()
      .toBuffer();
    // Transparent pixels are flattened onto white, not read as black.
    assert.ok((await analyzeImage(clear, { maxPixels: MAX_PIXELS })).exposure > 0.95);
  });
});
