/**
 * Getting photos in through the real HTTP stack (inject) on a fresh database: signed and
 * multipart uploads, paging, type by magic bytes, refusals, the size cap, aborted transfers and
 * single-use URLs (ABUSE 10–12). Every test works in a tenant of its own.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import http from "node:http";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import sharp from "sharp";
import { fixturePhoto, fixturePhotoNames, isKeeper, roomOfKeeper } from "../helpers/fixtures.js";
import {
  fixtureSizes,
  pathOf,
  photoSuite,
  photoTenant,
  poolMap,
  type RestAsset,
  sha256,
} from "../helpers/photos.js";

const MAX_UPLOAD_BYTES = 4 * 1024 * 1024;

describe("photo uploads: signed URLs, multipart, refusals", () => {
  const suite = photoSuite({ MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES) });

  it("uploads the 30 keeper photos by signed URL: each READY with size, quality and a 512 px thumbnail", async () => {
    const photos = await photoTenant(suite.app, "keepers");
    const sizes = fixtureSizes();
    const keepers = fixturePhotoNames().filter(isKeeper);
    assert.equal(keepers.length, 30);
    const before = await suite.probe.storage();
    const started = Date.now();
    const uploaded = await poolMap(keepers, 4, async (name) => {
      const { upload, response } = await photos.uploadSigned(name, readFileSync(fixturePhoto(name)));
      assert.equal(upload.asset.status, "PENDING_UPLOAD");
      assert.equal(response.statusCode, 200, `${name}: ${response.body}`);
      const body = response.json() as { asset: RestAsset };
      assert.equal(body.asset.status, "READY");
      return body.asset;
    });
    const elapsed = Date.now() - started;

    for (const [index, name] of keepers.entries()) {
      const asset = await photos.getAsset(uploaded[index]!.id);
      const bytes = readFileSync(fixturePhoto(name));
      const expected = sizes.get(name)!;
      assert.equal(asset.status, "READY", name);
      assert.equal(asset.filename, name);
      assert.equal(asset.contentType, "image/jpeg");
      assert.equal(asset.byteSize, bytes.length, name);
      assert.deepEqual({ width: asset.width, height: asset.height }, expected, name);
      assert.ok(asset.quality!.sharpness > 50, `${name} sharpness ${asset.quality!.sharpness}`);
      assert.ok(asset.quality!.exposure > 0.2 && asset.quality!.exposure < 0.9, `${name} exposure`);
      assert.ok(asset.quality!.colourfulness >= 0);
      assert.ok(!asset.quality!.flags.includes("DUPLICATE"), `${name} flagged ${asset.quality!.flags}`);
      assert.ok(!asset.quality!.flags.includes("DOCUMENT"), name);
      assert.equal(asset.duplicateOfAssetId, null);
      assert.equal(asset.roomType, roomOfKeeper(name), name);

      // The original comes back byte for byte; the thumbnail is a JPEG of at most 512 px.
      assert.ok(asset.url?.startsWith("http://media.propvid.test/v1/media/"));
      const original = await photos.fetchBytes(asset.url!);
      assert.equal(original.status, 200);
      assert.equal(original.headers["content-type"], "image/jpeg");
      assert.equal(sha256(original.bytes), sha256(bytes), name);
      const thumbnail = await photos.fetchBytes(asset.thumbnailUrl!);
      assert.equal(thumbnail.status, 200);
      const meta = await sharp(thumbnail.bytes).metadata();
      assert.equal(meta.format, "jpeg");
      assert.equal(Math.max(meta.width!, meta.height!), 512, name);
      assert.equal(meta.width! > meta.height!, expected.width > expected.height, `${name} orientation`);
    }
    const stored = await suite.probe.storage();
    assert.equal(stored.assets, before.assets + 30);
    assert.equal(stored.media, before.media + 60, "30 originals and 30 thumbnails");
    assert.equal(stored.largeObjects, before.largeObjects + 60);
    assert.ok(elapsed < 30_000, `30 uploads took ${elapsed} ms`);
    await suite.probe.assertClean();
  });

  it("Campaign.assets pages through the photos, newest first, without gaps or repeats", async () => {
    const photos = await photoTenant(suite.app, "paging");
    const colours = ["#102030", "#a03010", "#30a010", "#1030a0", "#a0a010", "#10a0a0", "#a010a0", "#808080"];
    const files = await Promise.all(
      colours.map(async (background, index) => ({
        filename: `swatch-${index}.png`,
        contentType: "image/png",
        bytes: await sharp({ create: { width: 320, height: 240, channels: 3, background } })
          .png()
          .toBuffer(),
      })),
    );
    const posted = await photos.postMultipart(files);
    assert.equal(posted.status, 200, JSON.stringify(posted.body));
    const ids = posted.body.results!.map((result) => result.asset!.id);

    const seen: { id: string; createdAt: string }[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 10; pages++) {
      const page: {
        body: {
          data?: {
            campaign: {
              assets: {
                edges: { node: { id: string; createdAt: string } }[];
                pageInfo: { hasNextPage: boolean; endCursor: string | null };
              };
            };
          };
        };
      } = await suite.app.graphql(
        photos.key,
        `query($id: ID!, $after: String) { campaign(id: $id) {
          assets(first: 3, after: $after) { edges { node { id createdAt } } pageInfo { hasNextPage endCursor } } } }`,
        { id: photos.campaignId, after: cursor },
      );
      const connection = page.body.data!.campaign.assets;
      assert.ok(connection.edges.length <= 3);
      seen.push(...connection.edges.map((edge) => edge.node));
      if (!connection.pageInfo.hasNextPage) break;
      cursor = connection.pageInfo.endCursor;
    }
    assert.equal(seen.length, colours.length);
    assert.deepEqual(new Set(seen.map((node) => node.id)), new Set(ids));
    const newestFirst = [...seen].sort(
      (a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id),
    );
    assert.deepEqual(seen, newestFirst);
  });

  it("decides the type by magic bytes: a PNG named .jpg is stored and served as PNG (ABUSE 12)", async () => {
    const photos = await photoTenant(suite.app, "magic-bytes");
    const png = await sharp({ create: { width: 640, height: 480, channels: 3, background: "#3a6ea5" } })
      .png()
      .toBuffer();
    const { response } = await photos.uploadSigned("garden.jpg", png, "image/jpeg");
    assert.equal(response.statusCode, 200, response.body);
    const asset = await photos.getAsset((response.json() as { asset: RestAsset }).asset.id);
    assert.equal(asset.contentType, "image/png");
    assert.deepEqual([asset.width, asset.height], [640, 480]);
    const served = await photos.fetchBytes(asset.url!);
    assert.equal(served.headers["content-type"], "image/png");
    assert.match(String(served.headers["content-disposition"]), /^inline; filename="[^"]+\.png"$/);
    assert.equal(sha256(served.bytes), sha256(png));
  });

  it("answers 415 for HTML, SVG, PDF and text sent as images, storing nothing (ABUSE 12)", async () => {
    const photos = await photoTenant(suite.app, "impostors");
    const impostors = [
      {
        filename: "listing.jpg",
        contentType: "image/jpeg",
        bytes: Buffer.from("<!doctype html><html><body>hi</body></html>"),
      },
      {
        filename: "logo.svg",
        contentType: "image/svg+xml",
        bytes: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
      },
      {
        filename: "brochure.png",
        contentType: "image/png",
        bytes: Buffer.from("%PDF-1.7\n1 0 obj<<>>endobj\n%%EOF"),
      },
      { filename: "notes.jpg", contentType: "image/jpeg", bytes: Buffer.from("just some text") },
    ];
    const before = await suite.probe.storage();
    const response = await photos.postMultipart(impostors);
    assert.equal(response.status, 415);
    assert.deepEqual(
      response.body.results!.map((result) => result.error?.code),
      impostors.map(() => "UNSUPPORTED_MEDIA_TYPE"),
    );
    assert.deepEqual(await suite.probe.storage(), before, "no asset, media or large object");

    // The same through a signed URL: 415, the asset is REJECTED with a reason, no media.
    for (const impostor of impostors) {
      const { upload, response: put } = await photos.uploadSigned(
        impostor.filename,
        impostor.bytes,
        impostor.contentType,
      );
      assert.equal(put.statusCode, 415, impostor.filename);
      assert.equal((put.json() as { error: { code: string } }).error.code, "UNSUPPORTED_MEDIA_TYPE");
      const asset = await photos.getAsset(upload.asset.id);
      assert.equal(asset.status, "REJECTED");
      assert.ok(asset.rejectionReason);
      assert.equal(asset.url, null);
    }
    const after = await suite.probe.storage();
    assert.equal(after.media, before.media);
    assert.equal(after.largeObjects, before.largeObjects);

    const declared = await photos.createUpload({
      campaignId: photos.campaignId,
      filename: "x.pdf",
      contentType: "application/pdf",
      byteSize: 10,
    });
    assert.equal(declared.body.errors?.[0]?.extensions?.code, "UNSUPPORTED_MEDIA_TYPE");
  });

  it("refuses uploads over the cap with 413, aborting the read early, storing nothing (ABUSE 10)", async () => {
    const photos = await photoTenant(suite.app, "over-cap");
    const { key, campaignId } = photos;
    const declared = await photos.createUpload({
      campaignId,
      filename: "huge.jpg",
      contentType: "image/jpeg",
      byteSize: MAX_UPLOAD_BYTES + 1,
    });
    assert.equal(declared.body.errors?.[0]?.extensions?.code, "PAYLOAD_TOO_LARGE");

    // The multipart part below starts with a copy of a photo the tenant already has.
    await photos.addPhotos(["pool-02.jpg"]);
    const before = await suite.probe.storage();
    // A body longer than the announced size: the server stops reading soon after the cap.
    const bytes = readFileSync(fixturePhoto("pool-01.jpg"));
    const created = await photos.createUpload({
      campaignId,
      filename: "pool.jpg",
      contentType: "image/jpeg",
      byteSize: bytes.length,
    });
    const upload = created.body.data!.createAssetUpload;
    let pulled = 0;
    const total = 64 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 1);
    // A real photo's bytes first (a non-image is refused from its first bytes, with 415).
    const endless = new Readable({
      read() {
        if (pulled >= total) return this.push(null);
        const next = pulled === 0 ? bytes : chunk;
        pulled += next.length;
        this.push(next);
      },
    });
    const overLong = await suite.app.app.inject({
      method: "PUT",
      url: pathOf(upload.uploadUrl),
      payload: endless,
    });
    assert.equal(overLong.statusCode, 413);
    assert.equal(overLong.headers.connection, "close", "the rest of the body is not drained");
    assert.equal((overLong.json() as { error: { code: string } }).error.code, "PAYLOAD_TOO_LARGE");
    assert.ok(pulled < bytes.length + 4 * 1024 * 1024, `read ${pulled} bytes of ${total}`);
    assert.equal((await photos.getAsset(upload.asset.id)).status, "PENDING_UPLOAD", "the URL may be retried");

    // A Content-Length over the server's cap is refused before the body is read.
    const declaredTooBig = await suite.app.app.inject({
      method: "PUT",
      url: pathOf(upload.uploadUrl),
      headers: { "content-length": String(MAX_UPLOAD_BYTES + 10) },
      payload: Buffer.alloc(16),
    });
    assert.equal(declaredTooBig.statusCode, 413);

    // A Content-Length over this URL's announced size is refused before the body is read too.
    const declaredOverCap = await suite.app.app.inject({
      method: "PUT",
      url: pathOf(upload.uploadUrl),
      headers: { "content-length": String(bytes.length + 1) },
      payload: Buffer.alloc(bytes.length + 1),
    });
    assert.equal(declaredOverCap.statusCode, 413);
    assert.equal(declaredOverCap.headers.connection, "close");

    assert.deepEqual(
      await suite.probe.storage(),
      { ...before, assets: before.assets + 1 },
      "only the pending upload's row",
    );

    // Multipart: a photo, then a file over MAX_UPLOAD_BYTES. The first is stored (a copy of a
    // photo already there: no new media), the second refused with 413 soon after the cap.
    const boundary = "----propvid-over-cap";
    const copy = readFileSync(fixturePhoto("pool-02.jpg"));
    const opening = Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="photos"; filename="pool-copy.jpg"\r\n` +
          "Content-Type: image/jpeg\r\n\r\n",
      ),
      copy,
      Buffer.from(
        `\r\n--${boundary}\r\nContent-Disposition: form-data; name="photos"; filename="big.jpg"\r\n` +
          "Content-Type: image/jpeg\r\n\r\n",
      ),
      bytes,
    ]);
    let sent = 0;
    const multipartBody = new Readable({
      read() {
        if (sent === 0) {
          sent += opening.length;
          this.push(opening);
        } else if (sent < total) {
          sent += chunk.length;
          this.push(chunk);
        } else {
          this.push(Buffer.from(`\r\n--${boundary}--\r\n`));
          this.push(null);
        }
      },
    });
    const big = await suite.app.app.inject({
      method: "POST",
      url: `/v1/campaigns/${campaignId}/assets`,
      headers: { "content-type": `multipart/form-data; boundary=${boundary}`, "x-api-key": key },
      payload: multipartBody,
    });
    assert.equal(big.statusCode, 413, big.body);
    assert.equal(big.headers.connection, "close");
    const bigBody = big.json() as {
      error: { code: string };
      results: { asset?: RestAsset; error?: { code: string } }[];
    };
    assert.equal(bigBody.error.code, "PAYLOAD_TOO_LARGE");
    assert.equal(bigBody.results[0]!.asset!.status, "READY");
    assert.equal(bigBody.results[1]!.error!.code, "PAYLOAD_TOO_LARGE");
    assert.ok(sent < opening.length + MAX_UPLOAD_BYTES + 4 * 1024 * 1024, `read ${sent} bytes of ${total}`);
    assert.deepEqual(
      await suite.probe.storage(),
      { ...before, assets: before.assets + 2 },
      "no row and no bytes for big.jpg",
    );
    assert.equal(await suite.probe.orphanLargeObjects(), 0);

    // The retried URL with the right bytes still works.
    const retry = await suite.app.app.inject({
      method: "PUT",
      url: pathOf(upload.uploadUrl),
      payload: bytes,
    });
    assert.equal(retry.statusCode, 200, retry.body);
    await suite.probe.assertClean();
  });

  it("keeps nothing when the client disconnects halfway through a PUT; the retry and the next upload work (ABUSE 11)", async () => {
    const photos = await photoTenant(suite.app, "disconnect");
    const address = suite.app.baseUrl ?? (await suite.app.app.listen({ port: 0, host: "127.0.0.1" }));
    const bytes = readFileSync(fixturePhoto("bedroom-01.jpg"));
    const created = await photos.createUpload({
      campaignId: photos.campaignId,
      filename: "bedroom-upload.jpg",
      contentType: "image/jpeg",
      byteSize: bytes.length,
    });
    const upload = created.body.data!.createAssetUpload;
    const before = await suite.probe.storage();
    const statusOf = async () => (await photos.getAsset(upload.asset.id)).status;
    const waitForStatus = async (wanted: string) => {
      const deadline = Date.now() + 5_000;
      let status = await statusOf();
      while (status !== wanted && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        status = await statusOf();
      }
      return status;
    };
    const request = http.request(`${address}${pathOf(upload.uploadUrl)}`, {
      method: "PUT",
      headers: { "content-length": String(bytes.length) },
    });
    const closed = new Promise<void>((resolve) => {
      request.on("error", () => resolve());
      request.on("close", () => resolve());
    });
    request.write(bytes.subarray(0, Math.floor(bytes.length / 2)));
    // The server has claimed the URL and is reading the body when the client goes away.
    assert.equal(await waitForStatus("PROCESSING"), "PROCESSING");
    request.destroy();
    await closed;
    const status = await waitForStatus("PENDING_UPLOAD");
    assert.equal(status, "PENDING_UPLOAD");
    assert.deepEqual(
      await suite.probe.storage(),
      before,
      "no media and no large object from the aborted transfer",
    );
    assert.equal(await suite.probe.orphanLargeObjects(), 0);

    const retry = await fetch(`${address}${pathOf(upload.uploadUrl)}`, { method: "PUT", body: bytes });
    assert.equal(retry.status, 200);
    assert.equal(((await retry.json()) as { asset: RestAsset }).asset.status, "READY");
    const next = await photos.uploadSigned(
      "bath-again.png",
      await sharp(readFileSync(fixturePhoto("bath-01.jpg")))
        .png()
        .toBuffer(),
    );
    assert.equal(next.response.statusCode, 200);
    await suite.probe.assertClean();
  });

  it("makes upload URLs single-use and bound to their asset; bad tokens get 403 with no body", async () => {
    const photos = await photoTenant(suite.app, "single-use");
    const bytes = readFileSync(fixturePhoto("exterior-05.jpg"));
    const first = await photos.uploadSigned("exterior-again.jpg", bytes);
    assert.equal(first.response.statusCode, 200);
    const again = await suite.app.app.inject({
      method: "PUT",
      url: pathOf(first.upload.uploadUrl),
      payload: bytes,
    });
    assert.equal(again.statusCode, 409);

    const other = (
      await photos.createUpload({
        campaignId: photos.campaignId,
        filename: "o.jpg",
        contentType: "image/jpeg",
        byteSize: bytes.length,
      })
    ).body.data!.createAssetUpload;
    const token = new URL(first.upload.uploadUrl).searchParams.get("token")!;
    const otherToken = new URL(other.uploadUrl).searchParams.get("token")!;
    const otherId = new URL(other.uploadUrl).pathname.split("/").pop()!;
    const tampered = `${otherToken.slice(0, -2)}${otherToken.endsWith("AA") ? "BB" : "AA"}`;
    for (const url of [
      `/v1/uploads/${otherId}?token=${token}`,
      `/v1/uploads/${otherId}?token=${tampered}`,
      `/v1/uploads/${otherId}`,
      `/v1/uploads/${otherId}?token=${otherToken}&token=${otherToken}`,
      `/v1/uploads/${randomUUID()}?token=${otherToken}`,
      `/v1/uploads/not-a-uuid?token=${otherToken}`,
    ]) {
      const response = await suite.app.app.inject({ method: "PUT", url, payload: bytes });
      assert.equal(response.statusCode, 403, url);
      assert.equal(response.body, "", url);
    }
    assert.equal((await photos.getAsset(other.asset.id)).status, "PENDING_UPLOAD");
  });
});
