import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AppError } from "../../src/errors.js";
import { contrastRatio, overlayPalette, parseHexColour } from "../../src/render/brand-palette.js";
import {
  areaUnitFor,
  formatFacts,
  formatOpenHouse,
  formatPrice,
  roomCaption,
} from "../../src/render/listing-format.js";
import { disclosureText, type OverlaySpec, titleContent } from "../../src/render/overlay-spec.js";

const badInput = (error: unknown) => error instanceof AppError && error.code === "BAD_USER_INPUT";

describe("prices", () => {
  it("formats whole amounts for the currency and locale", () => {
    assert.equal(formatPrice("123456789", "USD", "en-US"), "$123,456,789");
    assert.equal(formatPrice("1250000.00", "usd", "en-US"), "$1,250,000");
    assert.equal(formatPrice(450000, "EUR", "de-DE"), "450.000\u00a0€");
    assert.equal(formatPrice(98_000_000, "JPY", "ja-JP"), "￥98,000,000");
    assert.equal(formatPrice(875000, "GBP", "en-GB"), "£875,000");
  });

  it("refuses what is not a price, currency or locale", () => {
    assert.throws(() => formatPrice("12abc", "USD", "en-US"), badInput);
    assert.throws(() => formatPrice(-1, "USD", "en-US"), badInput);
    assert.throws(() => formatPrice(1, "DOLLARS", "en-US"), badInput);
    assert.throws(() => formatPrice(1, "USD", "not a locale!"), badInput);
  });
});

describe("facts", () => {
  it("uses square feet in the US, Canada and the UK, square metres elsewhere", () => {
    assert.equal(areaUnitFor("en-US", "USD"), "sqft");
    assert.equal(areaUnitFor("en-CA", "CAD"), "sqft");
    assert.equal(areaUnitFor("en-GB", "GBP"), "sqft");
    assert.equal(areaUnitFor("de-DE", "EUR"), "m2");
    assert.equal(areaUnitFor("en-AU", "AUD"), "m2");
    // no region in the locale: the currency decides
    assert.equal(areaUnitFor("en", "USD"), "sqft");
    assert.equal(areaUnitFor("fr", "EUR"), "m2");
  });

  it("says beds · baths · area with plurals and locale digits", () => {
    assert.equal(
      formatFacts({ bedrooms: 4, bathrooms: "2.5", areaSqft: 2350 }, "en-US", "USD"),
      "4 beds · 2.5 baths · 2,350 sq ft",
    );
    assert.equal(formatFacts({ bedrooms: 1, bathrooms: 1 }, "en-US", "USD"), "1 bed · 1 bath");
    assert.equal(formatFacts({ bedrooms: 3, areaSqft: 1076 }, "de-DE", "EUR"), "3 beds · 100 m²");
    assert.equal(formatFacts({}, "en-US", "USD"), null);
  });
});

describe("open house times", () => {
  const times = { startsAt: new Date("2026-03-14T20:00:00Z"), endsAt: new Date("2026-03-14T23:00:00Z") };

  it("shows the range in the campaign's time zone with the zone's name", () => {
    const text = formatOpenHouse(times, "en-US", "America/Los_Angeles");
    assert.match(text, /^Sat, Mar 14, 1:00\s?–\s?4:00\sPM PDT$/);
    const paris = formatOpenHouse(times, "fr-FR", "Europe/Paris");
    assert.match(paris, /21:00/);
    assert.match(paris, /00:00|0:00/);
  });

  it("refuses an unknown zone and an end before the start", () => {
    assert.throws(() => formatOpenHouse(times, "en-US", "Mars/Olympus_Mons"), badInput);
    assert.throws(
      () => formatOpenHouse({ startsAt: times.endsAt, endsAt: times.startsAt }, "en-US", "UTC"),
      badInput,
    );
  });
});

describe("templates", () => {
  const base: OverlaySpec = {
    format: "LANDSCAPE_16_9",
    template: "JUST_LISTED",
    locale: "en-US",
    timeZone: "America/New_York",
    listing: { address: "1 Main St", price: "500000", previousPrice: "550000", currency: "USD", bedrooms: 3 },
  };

  it("decides the headline and which prices show", () => {
    assert.deepEqual(titleContent(base), {
      headline: "Just listed",
      openHouse: null,
      address: "1 Main St",
      previousPrice: null,
      price: "$500,000",
      facts: "3 beds",
    });
    const reduced = titleContent({ ...base, template: "PRICE_REDUCED" });
    assert.equal(reduced.previousPrice, "$550,000");
    assert.equal(reduced.price, "$500,000");
    assert.equal(titleContent({ ...base, template: "UNDER_CONTRACT" }).price, null);
    assert.equal(titleContent({ ...base, template: "JUST_SOLD" }).headline, "Just sold");
    const open = titleContent({
      ...base,
      template: "OPEN_HOUSE",
      openHouse: { startsAt: new Date("2026-05-02T17:00:00Z"), endsAt: new Date("2026-05-02T19:00:00Z") },
    });
    assert.match(open.openHouse!, /Sat, May 2, 1:00\s?–\s?3:00\sPM EDT/);
  });

  it("refuses a template without what it needs", () => {
    assert.throws(() => titleContent({ ...base, template: "OPEN_HOUSE" }), badInput);
    assert.throws(
      () =>
        titleContent({
          ...base,
          template: "PRICE_REDUCED",
          listing: { ...base.listing, previousPrice: "400000" },
        }),
      badInput,
    );
    assert.throws(() => titleContent({ ...base, listing: { ...base.listing, address: "  " } }), badInput);
  });

  it("captions rooms and labels generated scenes", () => {
    assert.equal(roomCaption("KITCHEN"), "Kitchen");
    assert.equal(roomCaption("BEDROOM"), "Primary bedroom");
    assert.equal(roomCaption("OUTDOOR", "POOL"), "Pool");
    assert.equal(roomCaption("OUTDOOR", "KITCHEN"), "Outdoor living");
    assert.equal(disclosureText({}), "Virtually enhanced — AI-generated motion");
    assert.equal(disclosureText({ aiDisclosureText: "  " }), "Virtually enhanced — AI-generated motion");
    assert.equal(disclosureText({ aiDisclosureText: "AI-enhanced video" }), "AI-enhanced video");
  });
});

describe("brand palette", () => {
  it("measures contrast the WCAG way", () => {
    assert.equal(Math.round(contrastRatio([255, 255, 255], [0, 0, 0])), 21);
    assert.equal(contrastRatio([10, 20, 30], [10, 20, 30]), 1);
    assert.deepEqual(parseHexColour("#abc"), [0xaa, 0xbb, 0xcc]);
    assert.throws(() => parseHexColour("red"), badInput);
  });

  it("keeps brand colours that read well", () => {
    const palette = overlayPalette({ primaryColor: "#0e3b43", secondaryColor: "#f2b705" });
    assert.deepEqual([palette.panel, palette.text, palette.accent], ["#0e3b43", "#ffffff", "#f2b705"]);
  });

  it("falls back to legible colours when the brand's are too close or too light", () => {
    for (const [primaryColor, secondaryColor] of [
      ["#777777", "#787878"],
      ["#ffffff", "#fefefe"],
      ["#ffeb3b", "#ffe082"],
      ["#1b2a41", "#1c2b42"],
    ]) {
      const palette = overlayPalette({ primaryColor, secondaryColor });
      const panel = parseHexColour(palette.panel);
      assert.ok(contrastRatio(parseHexColour(palette.text), panel) >= 4.5, `${primaryColor} text`);
      assert.ok(contrastRatio(parseHexColour(palette.muted), panel) >= 4.5, `${primaryColor} muted`);
      assert.ok(contrastRatio(parseHexColour(palette.accent), panel) >= 3, `${primaryColor} accent`);
    }
  });
});
