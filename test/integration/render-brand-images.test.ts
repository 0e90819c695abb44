/**
 * Logos and agent photos rasterised with sharp at the size a card needs; hostile SVGs refused
 * in bounded time and memory (ABUSE 50); salient framing found on real and synthetic photos.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import sharp from "sharp";
import { AppError } from "../../src/errors.js";
import { rasteriseBrandImage } from "../../src/render/brand-image.js";
import { salientRegion } from "../../src/render/salient-region.js";
import { fixturePhoto } from "../helpers/fixtures.js";

const LOGO_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 100"><rect width="200" height="100" fill="#c0392b"/></svg>`;

async function pixelAt(png: Buffer, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  const at = (y * info.width + x) * info.channels;
  return [...data.subarray(at, at + info.channels)];
}

describe("brand images", () => {
  it("rasterises PNG, JPEG, WebP and SVG to exactly the box, transparent around a contained logo", async () => {
    const photo = await readFile(fixturePhoto("living-01.jpg"));
    const inputs = {
      jpeg: photo,
      png: await sharp(photo).resize(400).png().toBuffer(),
      webp: await sharp(photo).resize(400).webp().toBuffer(),
      svg: Buffer.from(LOGO_SVG),
    };
    for (const [kind, bytes] of Object.entries(inputs)) {
      const png = await rasteriseBrandImage(bytes, { width: 300, height: 100, fit: "contain" });
      const meta = await sharp(png).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height, meta.channels], ["png", 300, 100, 4], kind);
    }
    // the 2:1 SVG in a 3:1 box: drawn 200×100 in the middle, transparent at the sides
    const logo = await rasteriseBrandImage(Buffer.from(LOGO_SVG), {
      width: 300,
      height: 100,
      fit: "contain",
    });
    assert.equal((await pixelAt(logo, 5, 50))[3], 0);
    assert.deepEqual(await pixelAt(logo, 150, 50), [0xc0, 0x39, 0x2b, 255]);
    const left = await rasteriseBrandImage(Buffer.from(LOGO_SVG), {
      width: 300,
      height: 100,
      fit: "contain",
      gravity: "left",
    });
    assert.equal((await pixelAt(left, 5, 50))[3], 255);
  });

  it("crops an agent photo to a circle", async () => {
    const png = await rasteriseBrandImage(await readFile(fixturePhoto("living-01.jpg")), {
      width: 200,
      height: 200,
      fit: "cover",
      circle: true,
    });
    assert.equal((await pixelAt(png, 2, 2))[3], 0, "corner transparent");
    assert.equal((await pixelAt(png, 100, 100))[3], 255, "centre opaque");
  });

  it("refuses a pixel bomb from its header, before decoding", async () => {
    // a valid 1×1 PNG whose IHDR claims 14000×14000
    const png = await sharp({ create: { width: 1, height: 1, channels: 3, background: "#fff" } })
      .png()
      .toBuffer();
    png.writeUInt32BE(14_000, 16);
    png.writeUInt32BE(14_000, 20);
    await assert.rejects(
      rasteriseBrandImage(png, { width: 100, height: 100, fit: "contain" }),
      (error: unknown) => {
        assert.ok(error instanceof AppError && error.code === "MEDIA_REJECTED", String(error));
        return true;
      },
    );
  });

  it("refuses hostile SVGs quickly and without growing memory", async () => {
    const laughs = `<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "${"x".repeat(1000)}">${Array.from({ length: 9 }, (_, i) => `<!ENTITY ${"b".repeat(i + 1)} "${`&${i ? "b".repeat(i) : "a"};`.repeat(10)}">`).join("")}]><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><desc>&bbbbbbbbb;</desc></svg>`;
    const useBomb = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><defs><path id="p0" d="M0 0h1v1z"/>${Array.from({ length: 30 }, (_, i) => `<g id="p${i + 1}"><use href="#p${i}"/><use href="#p${i}"/></g>`).join("")}</defs><use href="#p30"/></svg>`;
    const hostile = {
      laughs,
      useBomb,
      hugeViewBox: `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1e12 1e12"><rect width="1e12" height="1e12"/></svg>`,
      script: `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><script>while(true){}</script></svg>`,
      externalHref: `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 1 1"><use xlink:href="http://169.254.169.254/latest#x"/></svg>`,
      oversized: `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1">${"<g></g>".repeat(200_000)}</svg>`,
    };
    global.gc?.();
    const before = process.memoryUsage().rss;
    for (const [name, text] of Object.entries(hostile)) {
      const started = performance.now();
      await assert.rejects(
        rasteriseBrandImage(Buffer.from(text), { width: 400, height: 200, fit: "contain" }),
        (error: unknown) => {
          assert.ok(
            error instanceof AppError && error.code === "UNSUPPORTED_MEDIA_TYPE",
            `${name}: ${error}`,
          );
          assert.ok(typeof error.details?.reason === "string" && error.details.reason.length > 0);
          return true;
        },
      );
      // generous bound for a loaded machine: the point is "not minutes", the work is linear
      assert.ok(performance.now() - started < 2000, `${name} took ${performance.now() - started} ms`);
    }
    const grown = (process.memoryUsage().rss - before) / 1024 / 1024;
    assert.ok(grown < 64, `rss grew ${grown.toFixed(1)} MiB`);
  });
});

describe("salient framing", () => {
  it("finds the detailed, saturated part of a photo for a portrait crop", async () => {
    // a flat grey 1600×900 photo with a busy, colourful patch on the right
    const patch = await sharp(await readFile(fixturePhoto("living-01.jpg")))
      .resize(400, 500)
      .modulate({ saturation: 2 })
      .toBuffer();
    const photo = await sharp({ create: { width: 1600, height: 900, channels: 3, background: "#808080" } })
      .composite([{ input: patch, left: 1150, top: 200 }])
      .jpeg()
      .toBuffer();
    const region = await salientRegion(photo, "PORTRAIT_9_16");
    assert.deepEqual(region.photo, { width: 1600, height: 900 });
    assert.equal(region.crop.height, 900);
    assert.equal(region.crop.width, Math.round((900 * 9) / 16));
    assert.ok(region.focus.x > 0.65, `focus ${JSON.stringify(region.focus)}`);
    assert.ok(region.crop.x + region.crop.width <= 1600);
  });

  it("returns a crop of the format's aspect inside a real photo", async () => {
    for (const format of ["PORTRAIT_9_16", "SQUARE_1_1", "PORTRAIT_4_5"] as const) {
      const region = await salientRegion(fixturePhoto("kitchen-02.jpg"), format, { strategy: "entropy" });
      const { crop, photo } = region;
      assert.ok(
        crop.x >= 0 &&
          crop.y >= 0 &&
          crop.x + crop.width <= photo.width &&
          crop.y + crop.height <= photo.height,
      );
      const aspect = { PORTRAIT_9_16: 9 / 16, SQUARE_1_1: 1, PORTRAIT_4_5: 4 / 5 }[format];
      assert.ok(Math.abs(crop.width / crop.height - aspect) < 0.01, format);
      assert.ok(region.focus.x > 0 && region.focus.x < 1 && region.focus.y > 0 && region.focus.y < 1);
    }
  });
});
