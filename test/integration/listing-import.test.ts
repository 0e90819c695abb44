/**
 * A listing page imported through the real path (GraphQL `importListing` → pg-boss `asset.import`
 * → safe fetch → listing parser → ingest): alt texts written with character references that only
 * a complete entity table knows (`&pound;`, `&euro;`) arrive decoded on the stored assets.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { type InProcessApp, startInProcessApp } from "../helpers/app.js";
import { fixturePhoto } from "../helpers/fixtures.js";

interface ImportView {
  status: string;
  error: string | null;
  results: {
    url: string;
    status: string;
    altText: string | null;
    asset: { altText: string | null } | null;
  }[];
}

const IMPORT_FIELDS = "status error results { url status altText asset { altText } }";
const JPEG = { "content-type": "image/jpeg" };

/** Alt texts written with references outside the few that hand-written tables tend to know. */
const LISTING_HTML = `<!doctype html><html><body>
  <img src="/p/1.jpg" alt="Kitchen &ndash; asking &pound;1,250,000">
  <img src="/p/2.jpg" alt="Living room, &euro;2,400&nbsp;/&nbsp;month">
  <img src="/p/3.jpg" alt="Bath &amp; spa &frac12; tiled">
</body></html>`;

describe("importListing decodes every HTML character reference in alt texts", () => {
  let app: InProcessApp;
  let key: string;
  let server: http.Server;
  let base: string;

  before(async () => {
    app = await startInProcessApp({ PROPVID_TEST_ALLOW_LOOPBACK_FETCH: "1" });
    ({ key } = await app.newTenant("listing-entities"));
    const photos: Record<string, string> = {
      "/p/1.jpg": "kitchen-01.jpg",
      "/p/2.jpg": "living-04.jpg",
      "/p/3.jpg": "bath-01.jpg",
    };
    server = http.createServer((request, response) => {
      const path = new URL(request.url ?? "/", "http://x").pathname;
      const fixture = photos[path];
      if (path === "/listing") response.writeHead(200, { "content-type": "text/html" }).end(LISTING_HTML);
      else if (fixture) response.writeHead(200, JPEG).end(readFileSync(fixturePhoto(fixture)));
      else response.writeHead(404).end();
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await app?.close();
  });

  it("stores £, € and no-break spaces, not the raw references", async () => {
    const campaign = await app.graphql<{ createCampaign: { id: string } }>(
      key,
      `mutation { createCampaign(input: { name: "Entity Row" }) { id } }`,
    );
    const started = await app.graphql<{ importListing: { id: string } }>(
      key,
      "mutation($c: ID!, $u: String!) { importListing(campaignId: $c, pageUrl: $u) { id } }",
      { c: campaign.body.data!.createCampaign.id, u: `${base}/listing` },
    );
    assert.equal(started.body.errors, undefined, JSON.stringify(started.body.errors));

    let done: ImportView | undefined;
    const deadline = Date.now() + 60_000;
    while (!done) {
      const polled = await app.graphql<{ assetImport: ImportView }>(
        key,
        `query($id: ID!) { assetImport(id: $id) { ${IMPORT_FIELDS} } }`,
        { id: started.body.data!.importListing.id },
      );
      const row = polled.body.data!.assetImport;
      if (row.status === "SUCCEEDED" || row.status === "FAILED") done = row;
      else if (Date.now() > deadline) assert.fail(`import still ${row.status}`);
      else await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(done.status, "SUCCEEDED", done.error ?? "");

    const expected = new Map([
      [`${base}/p/1.jpg`, "Kitchen \u2013 asking \u00a31,250,000"],
      [`${base}/p/2.jpg`, "Living room, \u20ac2,400\u00a0/\u00a0month"],
      [`${base}/p/3.jpg`, "Bath & spa \u00bd tiled"],
    ]);
    assert.equal(done.results.length, expected.size);
    for (const result of done.results) {
      assert.equal(result.status, "IMPORTED", result.url);
      assert.equal(result.altText, expected.get(result.url), result.url);
      assert.equal(result.asset?.altText, expected.get(result.url), result.url);
    }
  });
});
