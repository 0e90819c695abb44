/**
 * Importing photos by URL and from listing pages, served by a local HTTP server, through the
 * real HTTP stack (inject) with real pg-boss workers: alt texts, per-URL SSRF refusals, duplicates
 * and deletion of shared media (ABUSE 19–22). Every test works in a tenant of its own.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import sharp from "sharp";
import { fixturePhoto } from "../helpers/fixtures.js";
import { type PhotoTenant, photoSuite, photoTenant, sha256 } from "../helpers/photos.js";

interface ImportView {
  id: string;
  kind: string;
  status: string;
  error: string | null;
  finishedAt: string | null;
  results: {
    url: string;
    status: string;
    errorCode: string | null;
    altText: string | null;
    asset: {
      id: string;
      status: string;
      altText: string | null;
      sourceUrl: string | null;
      roomType: string | null;
    } | null;
  }[];
}

const IMPORT_FIELDS = `id kind status error finishedAt
  results { url status errorCode altText asset { id status altText sourceUrl roomType } }`;

/** The fixture photos the listing serves as JPEGs (another photo, a PNG, only it has). */
const LISTING_PHOTOS: Record<string, string> = {
  "/img/IMG_1001.jpg": "kitchen-03.jpg",
  "/img/IMG_1002.jpg": "bedroom-03.jpg",
  "/img/IMG_1003.jpg": "exterior-02.jpg",
};

describe("photo imports from a local listing server", () => {
  const suite = photoSuite({ PROPVID_TEST_ALLOW_LOOPBACK_FETCH: "1" });
  let server: http.Server;
  let base: string;
  const requested: string[] = [];

  before(async () => {
    // A photo only this listing has.
    const gradient = Buffer.alloc(900 * 600 * 3);
    for (let i = 0; i < gradient.length; i++) gradient[i] = (i * 7) % 251;
    const terrace = await sharp(gradient, { raw: { width: 900, height: 600, channels: 3 } })
      .png()
      .toBuffer();
    server = http.createServer((request, response) => {
      const url = new URL(request.url!, "http://x");
      requested.push(url.pathname);
      if (url.pathname === "/listing") {
        response.setHeader("content-type", "text/html; charset=utf-8");
        response.end(`<!doctype html><html><head><title>12 Harbour Rd</title>
          <meta property="og:image" content="/img/IMG_1003.jpg"></head><body>
          <img src="/img/IMG_1001.jpg" alt="Open-plan kitchen with island" width="1200">
          <img src="/img/IMG_1002.jpg" alt="Master bedroom &amp; dressing area">
          <picture><img src="/img/IMG_1004.png" alt="Sunny terrace"></picture>
          <img src="http://10.0.0.1/private.jpg" alt="internal">
          <img src="http://169.254.169.254/latest/meta-data/photo.jpg" alt="metadata">
          <img src="/redirect/private.jpg" alt="redirected">
          <img src="/img/missing.jpg" alt="missing">
          <img src="/img/page.jpg" alt="not an image">
          </body></html>`);
        return;
      }
      if (url.pathname === "/redirect/private.jpg") {
        response.writeHead(302, { location: "http://10.0.0.1/secret.jpg" });
        response.end();
        return;
      }
      if (url.pathname === "/img/page.jpg") {
        response.setHeader("content-type", "image/jpeg");
        response.end("<html>not a photo</html>");
        return;
      }
      if (url.pathname === "/img/IMG_1004.png") {
        response.setHeader("content-type", "image/png");
        response.end(terrace);
        return;
      }
      const fixture = LISTING_PHOTOS[url.pathname];
      if (!fixture) {
        response.statusCode = 404;
        response.end();
        return;
      }
      response.setHeader("content-type", "image/jpeg");
      response.end(readFileSync(fixturePhoto(fixture)));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server?.closeAllConnections();
    if (server) await new Promise((resolve) => server.close(resolve));
  });

  async function waitForImport(photos: PhotoTenant, id: string): Promise<ImportView> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const result = await suite.app.graphql<{ assetImport: ImportView }>(
        photos.key,
        `query($id: ID!) { assetImport(id: $id) { ${IMPORT_FIELDS} } }`,
        { id },
      );
      const row = result.body.data!.assetImport;
      if (row.status === "SUCCEEDED" || row.status === "FAILED") return row;
      if (Date.now() > deadline) throw new Error(`import still ${row.status}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async function importListing(photos: PhotoTenant, campaignId: string): Promise<ImportView> {
    const started = await suite.app.graphql<{ importListing: ImportView }>(
      photos.key,
      `mutation($c: ID!, $u: String!) { importListing(campaignId: $c, pageUrl: $u) { ${IMPORT_FIELDS} } }`,
      { c: campaignId, u: `${base}/listing` },
    );
    assert.equal(started.body.errors, undefined, JSON.stringify(started.body.errors));
    assert.equal(started.body.data!.importListing.kind, "LISTING");
    return await waitForImport(photos, started.body.data!.importListing.id);
  }

  it("importListing imports the page's photos with their alt texts and blocks the SSRF ones per URL", async () => {
    const photos = await photoTenant(suite.app, "listing");
    const done = await importListing(photos, photos.campaignId);
    assert.equal(done.status, "SUCCEEDED", done.error ?? "");
    assert.ok(done.finishedAt);
    const byUrl = new Map(done.results.map((result) => [result.url, result]));

    const kitchen = byUrl.get(`${base}/img/IMG_1001.jpg`)!;
    assert.equal(kitchen.status, "IMPORTED");
    assert.equal(kitchen.altText, "Open-plan kitchen with island");
    assert.equal(kitchen.asset!.status, "READY");
    assert.equal(kitchen.asset!.altText, "Open-plan kitchen with island");
    assert.equal(kitchen.asset!.sourceUrl, `${base}/img/IMG_1001.jpg`);
    assert.equal(kitchen.asset!.roomType, "KITCHEN");
    const bedroom = byUrl.get(`${base}/img/IMG_1002.jpg`)!;
    assert.equal(bedroom.status, "IMPORTED");
    assert.equal(bedroom.asset!.altText, "Master bedroom & dressing area");
    assert.equal(bedroom.asset!.roomType, "BEDROOM");
    assert.equal(byUrl.get(`${base}/img/IMG_1003.jpg`)!.status, "IMPORTED");
    const png = byUrl.get(`${base}/img/IMG_1004.png`)!;
    assert.equal(png.status, "IMPORTED");
    assert.equal(png.asset!.altText, "Sunny terrace");
    assert.equal(png.asset!.roomType, "POOL");

    for (const blocked of [
      "http://10.0.0.1/private.jpg",
      "http://169.254.169.254/latest/meta-data/photo.jpg",
      `${base}/redirect/private.jpg`,
    ]) {
      const result = byUrl.get(blocked)!;
      assert.equal(result.status, "FAILED", blocked);
      assert.equal(result.errorCode, "URL_NOT_ALLOWED", blocked);
      assert.equal(result.asset, null);
    }
    assert.equal(byUrl.get(`${base}/img/missing.jpg`)!.status, "FAILED");
    assert.equal(byUrl.get(`${base}/img/missing.jpg`)!.errorCode, "FETCH_FAILED");
    assert.equal(byUrl.get(`${base}/img/page.jpg`)!.errorCode, "UNSUPPORTED_MEDIA_TYPE");
    assert.equal(done.results.length, 9);

    const imported = await suite.probe.count("SELECT count(*) AS n FROM asset WHERE campaign_id = $1", [
      photos.campaignId,
    ]);
    assert.equal(imported, 4, "no asset for blocked, missing or non-image URLs");
    // The imported bytes are the source's bytes.
    const asset = await photos.getAsset(kitchen.asset!.id);
    assert.equal(
      sha256((await photos.fetchBytes(asset.url!)).bytes),
      sha256(readFileSync(fixturePhoto("kitchen-03.jpg"))),
    );
  });

  it("importAssets records static refusals at once and imports the rest in the background", async () => {
    const photos = await photoTenant(suite.app, "urls");
    // The first URL serves a photo this campaign already has.
    await photos.addPhotos(["kitchen-03.jpg"]);
    const urls = [
      `${base}/img/IMG_1001.jpg`,
      "http://0.0.0.0/x.jpg",
      "http://[::ffff:10.0.0.1]/x.jpg",
      "http://[fd00::1]/x.jpg",
      "ftp://example.com/x.jpg",
      "http://user@10.0.0.1/x.jpg",
      "not a url",
    ];
    const seenBefore = requested.length;
    const started = await suite.app.graphql<{ importAssets: ImportView }>(
      photos.key,
      `mutation($c: ID!, $u: [String!]!) { importAssets(campaignId: $c, urls: $u) { ${IMPORT_FIELDS} } }`,
      { c: photos.campaignId, u: urls },
    );
    assert.equal(started.body.errors, undefined, JSON.stringify(started.body.errors));
    const initial = started.body.data!.importAssets;
    assert.equal(initial.kind, "URLS");
    assert.deepEqual(
      initial.results.map((result) => result.status),
      ["PENDING", "FAILED", "FAILED", "FAILED", "FAILED", "FAILED", "FAILED"],
    );
    const done = await waitForImport(photos, initial.id);
    assert.equal(done.status, "SUCCEEDED");
    assert.equal(done.results[0]!.status, "DUPLICATE", "the same photo is already in this campaign");
    assert.equal(done.results[0]!.asset!.status, "READY");
    for (const result of done.results.slice(1)) {
      assert.equal(result.status, "FAILED", result.url);
      assert.ok(result.errorCode === "URL_NOT_ALLOWED" || result.errorCode === "BAD_USER_INPUT", result.url);
    }
    assert.deepEqual(requested.slice(seenBefore), ["/img/IMG_1001.jpg"]);

    const refused = await suite.app.graphql(
      photos.key,
      `mutation($c: ID!) { importListing(campaignId: $c, pageUrl: "http://169.254.169.254/listing") { id } }`,
      { c: photos.campaignId },
    );
    assert.equal(refused.body.errors?.[0]?.extensions?.code, "URL_NOT_ALLOWED");
    const empty = await suite.app.graphql(
      photos.key,
      `mutation($c: ID!) { importAssets(campaignId: $c, urls: []) { id } }`,
      { c: photos.campaignId },
    );
    assert.equal(empty.body.errors?.[0]?.extensions?.code, "BAD_USER_INPUT");
  });

  it("deleting the campaign removes its photos and the media only it used", async () => {
    const photos = await photoTenant(suite.app, "campaign-delete");
    // Another campaign of the tenant holds three of the listing's photos (same bytes: shared media).
    await photos.addPhotos(Object.values(LISTING_PHOTOS));
    const importCampaign = await photos.createCampaign("Harbour Rd");
    assert.equal((await importListing(photos, importCampaign)).status, "SUCCEEDED");

    const mediaOfCampaign = (
      await suite.probe.query(
        `SELECT unnest(ARRAY[media_id, thumbnail_media_id]) AS id FROM asset WHERE campaign_id = $1`,
        [importCampaign],
      )
    ).map((row) => String(row["id"]));
    const shared = await suite.probe.count(
      `SELECT count(DISTINCT m.id) AS n FROM media m JOIN asset a ON a.media_id = m.id OR a.thumbnail_media_id = m.id
        WHERE m.id = ANY($1::uuid[]) AND a.campaign_id <> $2`,
      [mediaOfCampaign, importCampaign],
    );
    assert.equal(shared, 6, "three originals and three thumbnails are shared");
    const before = await suite.probe.storage();
    const deleted = await suite.app.graphql<{ deleteCampaign: boolean }>(
      photos.key,
      `mutation($id: ID!) { deleteCampaign(id: $id) }`,
      { id: importCampaign },
    );
    assert.equal(deleted.body.data?.deleteCampaign, true);
    assert.equal(
      await suite.probe.count("SELECT count(*) AS n FROM asset WHERE campaign_id = $1", [importCampaign]),
      0,
    );
    assert.equal(
      await suite.probe.count("SELECT count(*) AS n FROM media WHERE id = ANY($1::uuid[])", [
        mediaOfCampaign,
      ]),
      shared,
    );
    const after = await suite.probe.storage();
    assert.equal(after.media, before.media - 2, "the terrace photo and its thumbnail are gone");
    assert.equal(after.largeObjects, before.largeObjects - 2);
    await suite.probe.assertClean();
  });
});
