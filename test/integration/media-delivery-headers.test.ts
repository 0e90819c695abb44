/**
 * The media route's download names and cache headers through the real HTTP stack (inject):
 * named signed URLs, a name that was not signed, API-key access, refusals.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { parse } from "content-disposition";
import { type InProcessApp, startInProcessApp } from "../helpers/app.js";

const pathOf = (url: string) => url.slice(url.indexOf("/v1/media/"));

describe("media route: download names and cache headers", () => {
  let app: InProcessApp;
  let tenantId: string;
  let key: string;
  let mediaId: string;

  before(async () => {
    app = await startInProcessApp({}, { workers: false });
    ({ tenantId, key } = await app.newTenant("delivery-headers"));
    const stored = await app.services.media.store(tenantId, randomBytes(4096), {
      contentType: "video/mp4",
      maxBytes: 1 << 20,
    });
    mediaId = stored.media.id;
  });
  after(async () => app?.close());

  it("names a download from the signed name, with an RFC 6266 header", async () => {
    const name = "12-ocean-drive-just-listed-16x9.mp4";
    const url = app.services.mediaUrl(tenantId, mediaId, "download", 600, name);
    const response = await app.app.inject({ url: `${pathOf(url)}&download=1` });
    assert.equal(response.statusCode, 200);
    const disposition = parse(String(response.headers["content-disposition"]));
    assert.equal(disposition.type, "attachment");
    assert.equal(disposition.parameters.filename, name);
    // A per-user URL: the browser may keep it as long as the token lives, a shared cache may not.
    const cacheControl = String(response.headers["cache-control"]);
    const maxAge = Number(/max-age=(\d+)/.exec(cacheControl)?.[1]);
    assert.match(cacheControl, /^private, max-age=\d+, immutable$/);
    assert.ok(maxAge > 590 && maxAge <= 600, cacheControl);
    assert.equal(response.headers.vary, undefined);
    assert.match(String(response.headers.etag), /^"[0-9a-f]{64}"$/);
  });

  it("carries a non-ASCII name in filename* and refuses a name the token was not signed for", async () => {
    const name = "villa-sérénité.mp4";
    const url = app.services.mediaUrl(tenantId, mediaId, "view", 600, name);
    const inline = await app.app.inject({ url: pathOf(url) });
    assert.equal(inline.statusCode, 200);
    const header = String(inline.headers["content-disposition"]);
    assert.match(
      header,
      /^inline; filename="villa-s_r_nit_\.mp4"; filename\*=UTF-8''villa-s%C3%A9r%C3%A9nit%C3%A9\.mp4$/,
    );
    assert.equal(parse(header).parameters.filename, name);

    const renamed = url.replace(/name=[^&]+/, "name=invoice.exe");
    const refused = await app.app.inject({ url: pathOf(renamed) });
    assert.equal(refused.statusCode, 403);
    assert.equal(refused.headers["cache-control"], "no-store");
    const unnamed = await app.app.inject({ url: pathOf(url).replace(/&name=[^&]+/, "") });
    assert.equal(unnamed.statusCode, 403, "the name is part of the signature");
    const twice = await app.app.inject({ url: `${pathOf(url)}&name=x.mp4` });
    assert.equal(twice.statusCode, 403);
  });

  it("makes API-key responses revalidate, and never marks refusals cacheable", async () => {
    const byKey = await app.app.inject({ url: `/v1/media/${mediaId}`, headers: { "x-api-key": key } });
    assert.equal(byKey.statusCode, 200);
    assert.equal(byKey.headers["cache-control"], "private, no-cache");
    assert.match(
      String(byKey.headers["content-disposition"]),
      /^inline; filename="propvid-[0-9a-f-]+\.mp4"$/,
    );
    const revalidated = await app.app.inject({
      url: `/v1/media/${mediaId}`,
      headers: { "x-api-key": key, "if-none-match": String(byKey.headers.etag) },
    });
    assert.equal(revalidated.statusCode, 304);
    const other = await app.newTenant("someone-else");
    const foreign = await app.app.inject({
      url: `/v1/media/${mediaId}`,
      headers: { "x-api-key": other.key },
    });
    assert.equal(foreign.statusCode, 404);
    assert.equal(foreign.headers["cache-control"], "no-store");
  });
});
