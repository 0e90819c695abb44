import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { CampaignEntity } from "../../src/db/entities/index.js";
import { newSlug, SLUG_PATTERN } from "../../src/delivery/share-link.service.js";
import { agentOf, propertyFacts, renderSharePage } from "../../src/delivery/share-page.js";

const campaign = (overrides: Partial<CampaignEntity> = {}): CampaignEntity =>
  ({
    id: "c",
    tenantId: "t",
    name: "Ocean house",
    address: "12 Ocean Drive, Miami Beach",
    price: "1250000.00",
    currency: "USD",
    bedrooms: 3,
    bathrooms: "2.5",
    areaSqft: 1850,
    description: null,
    brand: {},
    musicMood: null,
    createdAt: new Date(),
    updatedAt: new Date(),
    ...overrides,
  }) as CampaignEntity;

const media = {
  posterUrl: "https://v.example/v1/media/p?token=1.share.x",
  mp4Url: "https://v.example/v1/media/v?token=1.share.y&name=a.mp4",
  hlsUrl: "https://v.example/v1/hls/v/master.m3u8?token=1.share.z",
  refreshAfterSeconds: 780,
};

describe("share slugs", () => {
  it("are 1,000 distinct 192-bit values", () => {
    const slugs = new Set(Array.from({ length: 1000 }, newSlug));
    assert.equal(slugs.size, 1000);
    for (const slug of slugs) {
      assert.match(slug, SLUG_PATTERN);
      assert.ok(Buffer.from(slug, "base64url").length * 8 >= 128);
    }
  });
});

describe("share page", () => {
  const page = (overrides: Partial<CampaignEntity> = {}, agent = agentOf(campaign(overrides))) =>
    renderSharePage({
      slug: newSlug(),
      pageUrl: "https://v.example/s/abc",
      campaign: campaign(overrides),
      media,
      width: 1920,
      height: 1080,
      durationSeconds: 6,
      agent,
      assets: { player: "/s/assets/p.js", hls: "/s/assets/h.js" },
    });

  it("shows the facts that exist and the poster before any script", () => {
    const html = page();
    assert.match(
      html,
      /<video id="player"[^>]* poster="https:\/\/v\.example\/v1\/media\/p\?token=1\.share\.x"/,
    );
    assert.match(html, /\$1,250,000/);
    assert.match(html, /3 beds · 2\.5 baths · 1,850 sq ft/);
    assert.doesNotMatch(html, /<script>/, "no inline script (the CSP allows none)");
    assert.deepEqual(
      propertyFacts(campaign({ bedrooms: null, bathrooms: null, areaSqft: null, price: null })),
      {
        price: null,
        facts: [],
      },
    );
  });

  it("escapes whatever the campaign holds", () => {
    const html = page({
      address: `"><script>alert(1)</script>`,
      description: "</script><img src=x onerror=alert(1)>",
    });
    assert.doesNotMatch(html, /<script>alert|<img src=x/);
    assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    // The JSON config cannot close its script element either.
    assert.doesNotMatch(html.slice(html.indexOf('id="share-config"')), /<\/script><img/);
  });

  it("shows the agent card only when there is an agent to show", () => {
    const withAgent = page({
      agent: { name: "Dana Reyes", phone: "+1 (305) 555-0100", email: "dana@example.com" },
    } as never);
    assert.match(withAgent, /class="agent"><h2>Dana Reyes<\/h2>/);
    assert.match(withAgent, /href="tel:\+13055550100"/);
    assert.doesNotMatch(page(), /class="agent"/);
    assert.doesNotMatch(page({ agent: { name: "Dana" } } as never, null), /class="agent"/, "UNBRANDED: none");
  });
});
