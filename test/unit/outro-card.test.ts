import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { hasBrandedOutro, measureBrandedOutro, outroLayer } from "../../src/render/outro-card.js";
import type { OverlaySpec } from "../../src/render/overlay-spec.js";
import { RENDER_FORMATS, rectContains, safeZone } from "../../src/render/render-formats.js";

const agent = {
  name: "Jordan Avery",
  phone: "(707) 555-0142",
  email: "jordan.avery@seaside-realty-group.example",
  brokerage: "Seaside Realty Group",
  licenseNumber: "01234567",
};

const spec = (format: OverlaySpec["format"]): OverlaySpec => ({
  format,
  template: "JUST_LISTED",
  locale: "en-US",
  timeZone: "America/Los_Angeles",
  listing: {
    address: "12345 Pacific Coast Highway Unit 4B, Malibu, California 9026",
    price: "123456789",
    currency: "USD",
    bedrooms: 4,
    listingUrl: "https://homes.example.com/listing/12345-pacific-coast-highway-unit-4b",
  },
  agent,
});

describe("outro card", () => {
  for (const format of RENDER_FORMATS) {
    it(`${format}: the branded card names the agent and draws a QR code, inside the safe zone`, async () => {
      const layer = await outroLayer(spec(format), "branded");
      assert.ok(rectContains(safeZone(format), layer.box), JSON.stringify(layer.box));
      for (const value of [agent.name, agent.phone, agent.brokerage, "Lic. # 01234567", "Scan for details"]) {
        assert.ok(layer.text.includes(value), `${value} in ${layer.text.join(" | ")}`);
      }
      assert.match(layer.svg, /shape-rendering="crispEdges"/, "QR modules");
    });

    it(`${format}: the unbranded card has the property and nothing of the agent`, async () => {
      const layer = await outroLayer(spec(format), "unbranded");
      assert.ok(rectContains(safeZone(format), layer.box));
      assert.ok(layer.text.includes("$123,456,789"));
      const all = `${layer.text.join(" ")} ${layer.svg}`;
      for (const value of [
        agent.name,
        agent.phone,
        agent.email,
        agent.brokerage,
        agent.licenseNumber,
        "Scan",
        "crispEdges",
      ]) {
        assert.ok(!all.includes(value), `${value} must not appear`);
      }
      assert.equal(layer.images.length, 0, "no logo, no photo");
    });
  }

  it("the fullest card (logo, photo, two-line name, long brokerage, QR) fits its panel in every format", () => {
    for (const format of RENDER_FORMATS) {
      const full: OverlaySpec = {
        ...spec(format),
        template: "UNDER_CONTRACT",
        agent: {
          ...agent,
          name: "Maximilian Alexander Featherstonehaugh-Worthington",
          brokerage: "Pacific Coast Luxury Properties & Estates International",
          photo: Buffer.from("photo bytes (only their presence is measured)"),
        },
        brand: { logo: Buffer.from("logo bytes") },
      };
      const measure = measureBrandedOutro(full, full.agent!);
      assert.ok(measure.fits, `${format}: ${measure.contentHeight} at ${measure.k}`);
      assert.ok(measure.qrSize >= 180, `${format}: QR ${measure.qrSize} px`);
    }
  });

  it("a job without agent, logo or listing URL has one outro for both cuts", async () => {
    const bare: OverlaySpec = {
      ...spec("SQUARE_1_1"),
      agent: null,
      listing: { ...spec("SQUARE_1_1").listing, listingUrl: null },
    };
    assert.equal(hasBrandedOutro(bare), false);
    assert.deepEqual((await outroLayer(bare, "branded")).svg, (await outroLayer(bare, "unbranded")).svg);
    assert.equal(hasBrandedOutro(spec("SQUARE_1_1")), true);
  });

  it("refuses a listing URL that is not http(s)", async () => {
    const bad = spec("LANDSCAPE_16_9");
    bad.listing.listingUrl = "javascript:alert(1)";
    await assert.rejects(outroLayer(bad, "branded"), /http/);
  });
});
