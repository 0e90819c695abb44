/**
 * What ingest makes of the bytes, through the real HTTP stack (inject): quality flags on the
 * documented rejects, near-duplicates, byte-identical copies stored once, pixel bombs and corrupt
 * images rejected with a reason (ABUSE 13–15). Every test works in a tenant of its own.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import sharp from "sharp";
import { fixturePhoto, fixturePhotoNames, isKeeper } from "../helpers/fixtures.js";
import {
  type AssetView,
  fixtureFile,
  jpegDeclaring,
  photoSuite,
  photoTenant,
  pngDeclaring,
  type RestAsset,
  sha256,
} from "../helpers/photos.js";

describe("photo analysis: flags, duplicates, bombs and corrupt files", () => {
  const suite = photoSuite();

  it("flags the documented rejects: floor plan DOCUMENT, duplicates DUPLICATE of the keeper, blur, dark", async () => {
    const photos = await photoTenant(suite.app, "rejects");
    const keepers = ["dining-03.jpg", "living-01.jpg", "kitchen-02.jpg"];
    const byName = await photos.addPhotos(keepers);
    const rejects = fixturePhotoNames().filter((name) => !isKeeper(name));
    assert.equal(rejects.length, 7);
    const before = await suite.probe.storage();
    const response = await photos.postMultipart(rejects.map((name) => fixtureFile(name)));
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.deepEqual(
      response.body.results!.map((result) => [result.filename, result.asset?.status]),
      rejects.map((name) => [name, "READY"]),
    );
    for (const result of response.body.results!)
      byName.set(result.filename, await photos.getAsset(result.asset!.id));

    const flags = (name: string) => byName.get(name)!.quality!.flags;
    const floorPlan = byName.get("reject-floorplan-01.jpg")!;
    assert.equal(floorPlan.status, "READY");
    assert.ok(flags("reject-floorplan-01.jpg").includes("DOCUMENT"));
    assert.equal(floorPlan.duplicateOfAssetId, null);

    const duplicates: [string, string][] = [
      ["reject-dup-of-dining-03.jpg", "dining-03.jpg"],
      ["reject-dup-of-living-01.jpg", "living-01.jpg"],
    ];
    for (const [copy, original] of duplicates) {
      assert.ok(flags(copy).includes("DUPLICATE"), copy);
      assert.equal(byName.get(copy)!.duplicateOfAssetId, byName.get(original)!.id, copy);
    }
    assert.ok(flags("reject-blurry-01.jpg").includes("BLURRY"));
    assert.ok(flags("reject-blurry-02.jpg").includes("BLURRY"));
    assert.ok(flags("reject-dark-01.jpg").includes("DARK"));
    // Keepers stay unflagged as duplicates whatever came after them.
    for (const name of keepers) {
      assert.equal((await photos.getAsset(byName.get(name)!.id)).duplicateOfAssetId, null, name);
    }
    const after = await suite.probe.storage();
    assert.equal(after.assets, before.assets + 7);
    assert.equal(after.media, before.media + 14);
    assert.equal(after.largeObjects, before.largeObjects + 14);
    await suite.probe.assertClean();
  });

  it("never makes the good take a duplicate of a worse one, whatever the upload order", async () => {
    const photos = await photoTenant(suite.app, "upload-order");
    const names = ["reject-blurry-01.jpg", "kitchen-02.jpg", "reject-dup-of-dining-03.jpg", "dining-03.jpg"];
    const response = await photos.postMultipart(names.map((name) => fixtureFile(name)));
    assert.equal(response.status, 200);
    const [blurry, kitchen, bigCopy, dining] = await Promise.all(
      response.body.results!.map((result) => photos.getAsset(result.asset!.id)),
    );
    assert.deepEqual(blurry!.quality!.flags, ["BLURRY"]);
    assert.equal(kitchen!.duplicateOfAssetId, null, "the sharp take after a blurry one is not a duplicate");
    assert.ok(!kitchen!.quality!.flags.includes("DUPLICATE"));
    // Two clean takes: the earlier one is the original.
    assert.equal(bigCopy!.duplicateOfAssetId, null);
    assert.equal(dining!.duplicateOfAssetId, bigCopy!.id);
    assert.ok(dining!.quality!.flags.includes("DUPLICATE"));
  });

  it("stores the same bytes once: a second upload is a DUPLICATE sharing the media row and large object (ABUSE 15)", async () => {
    const photos = await photoTenant(suite.app, "same-bytes");
    const original = (await photos.addPhotos(["kitchen-01.jpg"])).get("kitchen-01.jpg")!;
    const bytes = readFileSync(fixturePhoto("kitchen-01.jpg"));
    const before = await suite.probe.storage();
    const viaMultipart = await photos.postMultipart([fixtureFile("kitchen-01.jpg", "copy-of-kitchen.jpg")]);
    assert.equal(viaMultipart.status, 200);
    const viaPut = await photos.uploadSigned("kitchen-again.jpg", bytes);
    assert.equal(viaPut.response.statusCode, 200);
    const copies = [
      viaMultipart.body.results![0]!.asset!.id,
      (viaPut.response.json() as { asset: RestAsset }).asset.id,
    ];
    for (const id of copies) {
      const copy = await photos.getAsset(id);
      assert.equal(copy.status, "READY");
      assert.equal(copy.duplicateOfAssetId, original.id);
      assert.ok(copy.quality!.flags.includes("DUPLICATE"));
    }
    const rows = await suite.probe.query(
      `SELECT DISTINCT media_id, thumbnail_media_id FROM asset WHERE id = ANY($1::uuid[])`,
      [[original.id, ...copies]],
    );
    assert.equal(rows.length, 1, "all three point at the same original and thumbnail");
    assert.equal(
      await suite.probe.count("SELECT count(*) AS n FROM media WHERE tenant_id = $1 AND sha256 = $2", [
        photos.tenantId,
        sha256(bytes),
      ]),
      1,
    );
    const after = await suite.probe.storage();
    assert.equal(after.assets, before.assets + 2);
    assert.equal(after.media, before.media);
    assert.equal(after.largeObjects, before.largeObjects);
  });

  it("rejects pixel bombs from the header, fast, with flat memory (ABUSE 13)", async () => {
    const photos = await photoTenant(suite.app, "pixel-bombs");
    const before = await suite.probe.storage();
    const bombs = [
      { name: "bomb.png", bytes: pngDeclaring(14_000, 14_000) },
      { name: "bomb.jpg", bytes: jpegDeclaring(65_535, 65_535) },
    ];
    for (const bomb of bombs) {
      const rss = process.memoryUsage().rss;
      const started = Date.now();
      const { upload, response } = await photos.uploadSigned(bomb.name, bomb.bytes);
      const elapsed = Date.now() - started;
      assert.equal(response.statusCode, 422, response.body);
      const body = response.json() as { asset: RestAsset; error: { code: string } };
      assert.equal(body.error.code, "MEDIA_REJECTED");
      assert.equal(body.asset.status, "REJECTED");
      assert.match(body.asset.rejectionReason!, /pixels/);
      assert.ok(elapsed < 2_000, `${bomb.name} took ${elapsed} ms`);
      assert.ok(process.memoryUsage().rss - rss < 64 * 1024 * 1024, `${bomb.name}: memory grew`);
      assert.equal((await photos.getAsset(upload.asset.id)).status, "REJECTED");
    }
    const multi = await photos.postMultipart([
      { filename: "bomb2.png", contentType: "image/png", bytes: bombs[0]!.bytes },
    ]);
    assert.equal(multi.body.results![0]!.asset!.status, "REJECTED");
    const after = await suite.probe.storage();
    assert.equal(after.media, before.media);
    assert.equal(after.largeObjects, before.largeObjects);
  });

  it("rejects a truncated JPEG and a PNG with a bad CRC with a reason, storing no media (ABUSE 14)", async () => {
    const photos = await photoTenant(suite.app, "corrupt");
    const jpeg = readFileSync(fixturePhoto("living-05.jpg"));
    const png = await sharp({ create: { width: 300, height: 200, channels: 3, background: "#884422" } })
      .png()
      .toBuffer();
    const badCrc = Buffer.from(png);
    badCrc[29] = badCrc[29]! ^ 0xff; // inside IHDR's CRC
    const before = await suite.probe.storage();
    for (const [name, bytes] of [
      ["truncated.jpg", jpeg.subarray(0, Math.floor(jpeg.length * 0.6))],
      ["bad-crc.png", badCrc],
    ] as const) {
      const { upload, response } = await photos.uploadSigned(name, bytes);
      assert.equal(response.statusCode, 422, name);
      const asset: AssetView = await photos.getAsset(upload.asset.id);
      assert.equal(asset.status, "REJECTED");
      assert.match(asset.rejectionReason!, /corrupt or truncated/);
      assert.equal(asset.url, null);
      assert.equal(asset.thumbnailUrl, null);
    }
    const after = await suite.probe.storage();
    assert.equal(after.media, before.media);
    assert.equal(after.largeObjects, before.largeObjects);
  });
});
