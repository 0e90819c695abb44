/**
 * The listing video's data through the real HTTP stack (issue 12, ABUSE 49): listing URL, agent,
 * locale and time zone on the campaign; logos and agent photos uploaded as assets of their own
 * purpose (a hostile SVG REJECTED with a reason, never chosen for scenes); references checked
 * against tenant, purpose and status; templates validated and part of the idempotency
 * fingerprint; the tenant's disclosure text changed by an admin only.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import sharp from "sharp";
import { type PhotoTenant, pathOf, photoSuite, photoTenant } from "../helpers/photos.js";

const LOGO_SVG = Buffer.from(
  `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 80"><rect width="200" height="80" fill="#1b2a41"/><circle cx="40" cy="40" r="24" fill="#d4a24c"/></svg>`,
);
const SCRIPT_SVG = Buffer.from(
  `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><script>alert(1)</script><rect width="10" height="10"/></svg>`,
);
const HREF_SVG = Buffer.from(
  `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 10 10"><image xlink:href="http://169.254.169.254/latest/meta-data" width="10" height="10"/></svg>`,
);
const HUGE_SVG = Buffer.from(
  `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10000000 10000000"><rect width="10000000" height="10000000"/></svg>`,
);
const LAUGHS_SVG = Buffer.from(
  `<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><text>&c;</text></svg>`,
);

type Errors = { message: string; extensions?: Record<string, unknown> }[] | undefined;
const codeOf = (errors: Errors) => errors?.[0]?.extensions?.["code"];

async function uploadAs(photos: PhotoTenant, purpose: string, filename: string, bytes: Buffer, type: string) {
  const created = await photos.createUpload({
    campaignId: photos.campaignId,
    filename,
    contentType: type,
    byteSize: bytes.length,
    purpose,
  } as never);
  assert.equal(created.body.errors, undefined, JSON.stringify(created.body.errors));
  const upload = created.body.data!.createAssetUpload;
  return upload;
}

describe("listing data: agent, logo, templates, disclosure setting", () => {
  const suite = photoSuite();

  async function put(uploadUrl: string, bytes: Buffer) {
    const response = await suite.app.app.inject({ method: "PUT", url: pathOf(uploadUrl), payload: bytes });
    return response.json() as { asset: { id: string; status: string; rejectionReason: string | null } };
  }

  async function asset(photos: PhotoTenant, id: string) {
    const result = await suite.app.graphql<{
      asset: { status: string; purpose: string; rejectionReason: string | null; contentType: string | null };
    }>(photos.key, `query($id: ID!) { asset(id: $id) { status purpose rejectionReason contentType } }`, {
      id,
    });
    assert.equal(result.body.errors, undefined, JSON.stringify(result.body.errors));
    return result.body.data!.asset;
  }

  it("stores a campaign's listing URL, agent, locale and time zone, with a LOGO and AGENT_PHOTO checked by purpose", async () => {
    const photos = await photoTenant(suite.app, "listing-agent");
    const logoUpload = await uploadAs(photos, "LOGO", "logo.svg", LOGO_SVG, "image/svg+xml");
    assert.equal((await put(logoUpload.uploadUrl, LOGO_SVG)).asset.status, "READY");
    const logo = await asset(photos, logoUpload.asset.id);
    assert.deepEqual([logo.purpose, logo.contentType], ["LOGO", "image/svg+xml"]);

    const face = await sharp({ create: { width: 64, height: 64, channels: 3, background: "#8a6" } })
      .png()
      .toBuffer();
    const faceUpload = await uploadAs(photos, "AGENT_PHOTO", "agent.png", face, "image/png");
    assert.equal((await put(faceUpload.uploadUrl, face)).asset.status, "READY");

    const agent = {
      name: "Dana Reyes",
      phone: "+14155550142",
      email: "dana@homes.example",
      brokerage: "Vine Realty",
      licenseNumber: "DRE 0192",
      photoAssetId: faceUpload.asset.id,
    };
    const fields = `id listingUrl locale timeZone brand { logoAssetId primaryColor }
      agent { name phone email brokerage licenseNumber photoAssetId }`;
    const created = await suite.app.graphql<{ createCampaign: Record<string, unknown> }>(
      photos.key,
      `mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { ${fields} } }`,
      {
        input: {
          name: "12 Vine St",
          listingUrl: "https://homes.example/listing/12-vine",
          locale: "en-GB",
          timeZone: "Europe/London",
          brand: { logoAssetId: logoUpload.asset.id, primaryColor: "#224466" },
          agent,
        },
      },
    );
    assert.equal(created.body.errors, undefined, JSON.stringify(created.body.errors));
    const campaign = created.body.data!.createCampaign;
    assert.equal(campaign["listingUrl"], "https://homes.example/listing/12-vine");
    assert.equal(campaign["locale"], "en-GB");
    assert.equal(campaign["timeZone"], "Europe/London");
    assert.deepEqual(campaign["agent"], agent);

    const update = (input: Record<string, unknown>, key = photos.key) =>
      suite.app.graphql(
        key,
        `mutation($id: ID!, $input: UpdateCampaignInput!) { updateCampaign(id: $id, input: $input) { id } }`,
        { id: campaign["id"], input },
      );
    // a logo that is the agent photo, or a listing photo: the wrong kind
    assert.equal(
      codeOf((await update({ brand: { logoAssetId: faceUpload.asset.id } })).body.errors),
      "BAD_USER_INPUT",
    );
    // another tenant's logo: indistinguishable from a random id
    const other = await photoTenant(suite.app, "listing-other");
    const otherLogo = await uploadAs(other, "LOGO", "logo.svg", LOGO_SVG, "image/svg+xml");
    await put(otherLogo.uploadUrl, LOGO_SVG);
    assert.equal(
      codeOf((await update({ brand: { logoAssetId: otherLogo.asset.id } })).body.errors),
      "NOT_FOUND",
    );
    assert.equal(
      codeOf((await update({ agent: { name: "X", photoAssetId: otherLogo.asset.id } })).body.errors),
      "NOT_FOUND",
    );
    // scalars refuse what is not a URL, a zone or an http(s) link
    assert.ok((await update({ listingUrl: "not a url" })).body.errors);
    assert.equal(
      codeOf((await update({ listingUrl: "ftp://homes.example/x" })).body.errors),
      "BAD_USER_INPUT",
    );
    assert.ok((await update({ timeZone: "Mars/Olympus" })).body.errors);
    // agent: null removes it
    assert.equal((await update({ agent: null })).body.errors, undefined);
  });

  it("rejects hostile SVG logos with a reason and keeps logos out of scene selection", async () => {
    const photos = await photoTenant(suite.app, "listing-svg");
    const rssBefore = process.memoryUsage().rss;
    for (const [name, bytes] of [
      ["script.svg", SCRIPT_SVG],
      ["laughs.svg", LAUGHS_SVG],
      ["href.svg", HREF_SVG],
      ["huge.svg", HUGE_SVG],
    ] as const) {
      const upload = await uploadAs(photos, "LOGO", name, bytes, "image/svg+xml");
      const started = Date.now();
      const result = await put(upload.uploadUrl, bytes);
      assert.ok(Date.now() - started < 10_000, `${name} took too long`);
      assert.equal(result.asset.status, "REJECTED", name);
      const stored = await asset(photos, upload.asset.id);
      assert.match(stored.rejectionReason ?? "", /SVG refused/, name);
    }
    // a billion laughs or a 10^7-unit viewBox is refused before anything is expanded or rasterised
    const grown = process.memoryUsage().rss - rssBefore;
    assert.ok(grown < 200 * 1024 * 1024, `memory grew ${Math.round(grown / 1048576)} MiB`);
    // an SVG is no agent photo
    const upload = await uploadAs(photos, "AGENT_PHOTO", "face.svg", LOGO_SVG, "image/svg+xml");
    assert.equal((await put(upload.uploadUrl, LOGO_SVG)).asset.status, "REJECTED");

    const ready = await suite.app.services.assets.readyOfCampaign(photos.tenantId, photos.campaignId);
    assert.equal(ready.length, 0, "logos and agent photos are never a video's photos");
  });

  it("validates templates and makes them part of the idempotency fingerprint", async () => {
    const photos = await photoTenant(suite.app, "listing-templates");
    const create = (input: Record<string, unknown>, idempotencyKey: string | null = null) =>
      suite.app.graphql<{ createVideoJob: { id: string; template: string; captions: boolean } }>(
        photos.key,
        `mutation($input: CreateVideoJobInput!, $k: String) {
          createVideoJob(input: $input, idempotencyKey: $k) { id template captions previousPrice openHouse { startsAt endsAt } }
        }`,
        { input: { campaignId: photos.campaignId, ...input }, k: idempotencyKey },
      );
    const first = await create({}, "k1");
    assert.equal(first.body.errors, undefined, JSON.stringify(first.body.errors));
    assert.equal(first.body.data!.createVideoJob.template, "JUST_LISTED");
    assert.equal(first.body.data!.createVideoJob.captions, true);
    assert.equal((await create({}, "k1")).body.data!.createVideoJob.id, first.body.data!.createVideoJob.id);
    assert.equal(codeOf((await create({ template: "JUST_SOLD" }, "k1")).body.errors), "CONFLICT");
    assert.equal(codeOf((await create({ captions: false }, "k1")).body.errors), "CONFLICT");

    const openHouse = { startsAt: "2026-03-14T20:00:00Z", endsAt: "2026-03-14T23:00:00Z" };
    // OPEN_HOUSE needs the times and the campaign's time zone
    assert.equal(codeOf((await create({ template: "OPEN_HOUSE" })).body.errors), "BAD_USER_INPUT");
    assert.equal(codeOf((await create({ template: "OPEN_HOUSE", openHouse })).body.errors), "BAD_USER_INPUT");
    assert.equal(codeOf((await create({ openHouse })).body.errors), "BAD_USER_INPUT");
    // PRICE_REDUCED needs an old price above the campaign's
    assert.equal(
      codeOf((await create({ template: "PRICE_REDUCED", previousPrice: 900_000 })).body.errors),
      "BAD_USER_INPUT",
    );
    const set = await suite.app.graphql(
      photos.key,
      `mutation($id: ID!) { updateCampaign(id: $id, input: { price: 850000, timeZone: "America/Los_Angeles" }) { id } }`,
      { id: photos.campaignId },
    );
    assert.equal(set.body.errors, undefined, JSON.stringify(set.body.errors));
    assert.equal(
      codeOf((await create({ template: "PRICE_REDUCED", previousPrice: 800_000 })).body.errors),
      "BAD_USER_INPUT",
    );
    const reduced = await create({ template: "PRICE_REDUCED", previousPrice: 900_000 });
    assert.equal(reduced.body.errors, undefined, JSON.stringify(reduced.body.errors));
    const house = await create({ template: "OPEN_HOUSE", openHouse });
    assert.equal(house.body.errors, undefined, JSON.stringify(house.body.errors));
  });

  it("lets an admin, and only an admin, set the tenant's AI-disclosure text", async () => {
    const photos = await photoTenant(suite.app, "listing-disclosure");
    const mutation = `mutation($text: String) { updateTenantSettings(input: { aiDisclosureText: $text }) { aiDisclosureText } }`;
    const set = await suite.app.graphql<{ updateTenantSettings: { aiDisclosureText: string | null } }>(
      photos.key,
      mutation,
      { text: "  AI-animated scenes  " },
    );
    assert.equal(set.body.errors, undefined, JSON.stringify(set.body.errors));
    assert.equal(set.body.data!.updateTenantSettings.aiDisclosureText, "AI-animated scenes");
    const reset = await suite.app.graphql<{ updateTenantSettings: { aiDisclosureText: string | null } }>(
      photos.key,
      mutation,
      { text: "" },
    );
    assert.equal(reset.body.data!.updateTenantSettings.aiDisclosureText, null);
    const writer = await suite.app.newTenant("listing-writer", ["write"]);
    assert.equal(
      codeOf((await suite.app.graphql(writer.key, mutation, { text: "x" })).body.errors),
      "FORBIDDEN",
    );
  });
});
