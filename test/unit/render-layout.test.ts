import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadFont } from "../../src/render/fonts.js";
import { VIDEO_TEMPLATES } from "../../src/render/listing-format.js";
import {
  captionLayer,
  disclosureLayer,
  overlayRegions,
  titleLayer,
} from "../../src/render/overlay-layers.js";
import type { OverlaySpec } from "../../src/render/overlay-spec.js";
import {
  FRAME_SIZE,
  RENDER_FORMATS,
  rectContains,
  rectsOverlap,
  safeZone,
} from "../../src/render/render-formats.js";
import { layoutTextBox, measureText, wrapText } from "../../src/render/text-layout.js";

/** 60 characters, the long-address case. */
const LONG_ADDRESS = "12345 Pacific Coast Highway Unit 4B, Malibu, California 9026";
const NINE_DIGIT_PRICE = "123456789";

function spec(format: OverlaySpec["format"], template: OverlaySpec["template"] = "JUST_LISTED"): OverlaySpec {
  return {
    format,
    template,
    locale: "en-US",
    timeZone: "America/Los_Angeles",
    listing: {
      address: LONG_ADDRESS,
      price: NINE_DIGIT_PRICE,
      previousPrice: "130000000",
      currency: "USD",
      bedrooms: 12,
      bathrooms: "10.5",
      areaSqft: 25_000,
    },
    openHouse: { startsAt: new Date("2026-03-14T20:00:00Z"), endsAt: new Date("2026-03-14T23:00:00Z") },
  };
}

describe("safe zones", () => {
  it("9:16 keeps clear of the top 14 %, the bottom 35 % and 6 % at the sides", () => {
    const zone = safeZone("PORTRAIT_9_16");
    assert.deepEqual(FRAME_SIZE.PORTRAIT_9_16, { width: 1080, height: 1920 });
    assert.ok(zone.y >= 1920 * 0.14 && zone.y < 1920 * 0.14 + 1);
    assert.ok(zone.y + zone.height <= 1920 * 0.65 && zone.y + zone.height > 1920 * 0.65 - 1);
    assert.ok(zone.x >= 1080 * 0.06 && zone.x + zone.width <= 1080 * 0.94);
  });

  it("every format has a safe zone inside the frame, and the overlay regions inside it, apart", () => {
    for (const format of RENDER_FORMATS) {
      const { width, height } = FRAME_SIZE[format];
      const regions = overlayRegions(format);
      assert.ok(rectContains({ x: 0, y: 0, width, height }, regions.safe), format);
      for (const name of ["disclosure", "caption", "title", "card"] as const) {
        assert.ok(rectContains(regions.safe, regions[name]), `${format} ${name}`);
      }
      assert.ok(!rectsOverlap(regions.title, regions.disclosure), `${format}: title and disclosure apart`);
      assert.ok(!rectsOverlap(regions.card, regions.disclosure), `${format}: card and disclosure apart`);
    }
  });
});

describe("text layout", () => {
  const font = loadFont("bold");
  const BOX = { font, maxWidth: 600, maxHeight: 100, maxFontSize: 50, minFontSize: 20 };

  it("wraps at spaces and never returns a line wider than the box", () => {
    const lines = wrapText(font, LONG_ADDRESS, 60, 500);
    assert.ok(lines.length > 1);
    assert.equal(lines.join(" "), LONG_ADDRESS);
    for (const line of lines) assert.ok(measureText(font, line, 60) <= 500, line);
  });

  it("breaks a word longer than the box between characters", () => {
    const lines = wrapText(font, "averyveryverylongemailaddress@example-brokerage.com", 40, 300);
    assert.ok(lines.length > 1);
    assert.equal(lines.join(""), "averyveryverylongemailaddress@example-brokerage.com");
    for (const line of lines) assert.ok(measureText(font, line, 40) <= 300);
  });

  it("shrinks to fit before giving up: the largest size whose wrap fits the lines allowed", () => {
    const block = layoutTextBox(LONG_ADDRESS, {
      font,
      maxWidth: 800,
      maxHeight: 200,
      maxFontSize: 60,
      minFontSize: 24,
      maxLines: 2,
    });
    assert.equal(block.truncated, false);
    assert.ok(block.lines.length <= 2);
    assert.ok(block.width <= 800 && block.height <= 200);
    assert.ok(block.fontSize < 60 && block.fontSize >= 24);
    const bigger = layoutTextBox(LONG_ADDRESS, {
      font,
      maxWidth: 800,
      maxHeight: 400,
      maxFontSize: block.fontSize + 1,
      minFontSize: block.fontSize + 1,
      maxLines: 2,
    });
    assert.equal(bigger.truncated, true, "one pixel larger no longer fits in two lines");
  });

  it("ends in an ellipsis when even the smallest size cannot hold the text", () => {
    const text = "word ".repeat(200);
    const block = layoutTextBox(text, {
      font,
      maxWidth: 300,
      maxHeight: 60,
      maxFontSize: 30,
      minFontSize: 20,
      maxLines: 2,
    });
    assert.equal(block.truncated, true);
    assert.ok(block.lines.length <= 2 && block.width <= 300 && block.height <= 60);
    assert.ok(block.lines.at(-1)!.text.endsWith("…"));
  });

  it("is deterministic: the same text gives the same outlines", () => {
    const a = layoutTextBox("1847 Willow Creek Lane", BOX);
    const b = layoutTextBox("1847 Willow Creek Lane", BOX);
    assert.deepEqual(a, b);
    assert.match(a.lines[0]!.pathData, /^M[\d.-]+ [\d.-]+/);
  });

  it("draws only characters the font has: compatibility forms replace the others", () => {
    const yen = layoutTextBox("￥98,000,000", BOX);
    assert.equal(yen.lines[0]!.text, "¥98,000,000");
    const mixed = layoutTextBox("Shibuya 渋谷 1-2-3", BOX);
    assert.equal(mixed.lines[0]!.text, "Shibuya 1-2-3");
  });

  it("removes control characters and collapses whitespace", () => {
    const block = layoutTextBox("Main\u0000 St\u001b\n\n  12", BOX);
    assert.equal(block.lines[0]!.text, "Main St 12");
  });
});

describe("overlay layers stay in the safe zone", () => {
  for (const format of RENDER_FORMATS) {
    for (const template of VIDEO_TEMPLATES) {
      it(`${format} ${template}: a 60-character address and a 9-digit price fit`, () => {
        const s = spec(format, template);
        const safe = safeZone(format);
        const title = titleLayer(s);
        assert.ok(rectContains(safe, title.box), `title ${JSON.stringify(title.box)}`);
        assert.ok(title.text.some((line) => line.includes("Pacific Coast")));
        const caption = captionLayer(s, "Primary bedroom");
        const disclosure = disclosureLayer(s);
        for (const layer of [caption, disclosure]) assert.ok(rectContains(safe, layer.box), layer.kind);
        assert.ok(!rectsOverlap(title.box, disclosure.box));
        assert.ok(!rectsOverlap(caption.box, disclosure.box));
        // the SVG is as large as its box, holds only paths and shapes (no <text>, no fonts)
        assert.match(title.svg, new RegExp(`width="${title.box.width}" height="${title.box.height}"`));
        assert.doesNotMatch(title.svg, /<text|font-family|<image/);
      });
    }
  }

  it("the price line shows the 9-digit price in full", () => {
    const title = titleLayer(spec("PORTRAIT_9_16"));
    assert.ok(title.text.includes("$123,456,789"), title.text.join(" | "));
  });
});
