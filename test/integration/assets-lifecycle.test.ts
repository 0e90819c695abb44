/**
 * Photos once they exist, through the real HTTP stack (inject): edits, deletion with shared
 * media, tenant isolation (ABUSE 39) and the hourly sweep. Every test works in a tenant of its own.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { PartRun } from "../../src/jobs/part-run.js";
import { sweepMediaJob } from "../../src/jobs/sweep-media.job.js";
import { fixturePhoto } from "../helpers/fixtures.js";
import {
  ASSET_FIELDS,
  type AssetView,
  fixtureFile,
  photoSuite,
  photoTenant,
  type RestAsset,
  sha256,
} from "../helpers/photos.js";

describe("photo lifecycle: edits, deletion, tenancy, the sweep", () => {
  const suite = photoSuite();

  it("updates room type and tags, and deletes photos with their media once nothing uses it", async () => {
    const photos = await photoTenant(suite.app, "edits");
    const { key } = photos;
    const byName = await photos.addPhotos(["living-03.jpg", "kitchen-01.jpg"]);
    const living = byName.get("living-03.jpg")!;
    const updated = await suite.app.graphql<{ updateAsset: AssetView }>(
      key,
      `mutation($id: ID!) { updateAsset(id: $id, input: { roomType: DINING, tags: [" sofa ", "sofa", "corner"] }) { ${ASSET_FIELDS} } }`,
      { id: living.id },
    );
    assert.equal(updated.body.errors, undefined);
    assert.equal(updated.body.data!.updateAsset.roomType, "DINING");
    assert.deepEqual(updated.body.data!.updateAsset.tags, ["sofa", "corner"]);
    const reset = await suite.app.graphql<{ updateAsset: AssetView }>(
      key,
      `mutation($id: ID!) { updateAsset(id: $id, input: { roomType: null }) { roomType roomTypeGuess } }`,
      { id: living.id },
    );
    assert.equal(reset.body.data!.updateAsset.roomType, "LIVING");
    const tooMany = await suite.app.graphql(
      key,
      `mutation($id: ID!, $t: [String!]) { updateAsset(id: $id, input: { tags: $t }) { id } }`,
      {
        id: living.id,
        t: Array.from({ length: 51 }, (_, i) => `t${i}`),
      },
    );
    assert.equal(tooMany.body.errors?.[0]?.extensions?.code, "BAD_USER_INPUT");

    // kitchen-01 gets two byte-identical copies: deleting copies and original frees the media only at the end.
    const kitchen = byName.get("kitchen-01.jpg")!;
    const bytes = readFileSync(fixturePhoto("kitchen-01.jpg"));
    const sha = sha256(bytes);
    const viaMultipart = await photos.postMultipart([fixtureFile("kitchen-01.jpg", "copy-of-kitchen.jpg")]);
    const viaPut = await photos.uploadSigned("kitchen-again.jpg", bytes);
    const copies = [
      viaMultipart.body.results![0]!.asset!.id,
      (viaPut.response.json() as { asset: RestAsset }).asset.id,
    ];
    for (const id of copies) assert.equal((await photos.getAsset(id)).duplicateOfAssetId, kitchen.id);
    const mediaWithSha = () =>
      suite.probe.count("SELECT count(*) AS n FROM media WHERE tenant_id = $1 AND sha256 = $2", [
        photos.tenantId,
        sha,
      ]);
    const deleteAsset = (id: string) =>
      suite.app.graphql<{ deleteAsset: boolean }>(key, `mutation($id: ID!) { deleteAsset(id: $id) }`, { id });
    assert.equal((await deleteAsset(copies[0]!)).body.data!.deleteAsset, true);
    assert.equal(await mediaWithSha(), 1);

    // Deleting the original promotes the remaining copy: no dangling duplicateOfAssetId.
    const before = await suite.probe.storage();
    assert.equal((await deleteAsset(kitchen.id)).body.data!.deleteAsset, true);
    const promoted = await photos.getAsset(copies[1]!);
    assert.equal(promoted.duplicateOfAssetId, null);
    assert.ok(!promoted.quality!.flags.includes("DUPLICATE"));
    assert.equal(await mediaWithSha(), 1);
    assert.deepEqual(await suite.probe.storage(), { ...before, assets: before.assets - 1 });

    assert.equal((await deleteAsset(copies[1]!)).body.data!.deleteAsset, true);
    assert.equal(await mediaWithSha(), 0);
    const after = await suite.probe.storage();
    assert.equal(after.media, before.media - 2, "original and thumbnail are gone");
    assert.equal(after.largeObjects, before.largeObjects - 2);
    const gone = await suite.app.graphql(key, `query($id: ID!) { asset(id: $id) { id } }`, {
      id: kitchen.id,
    });
    assert.equal(gone.body.errors?.[0]?.extensions?.code, "NOT_FOUND");
    const twice = await deleteAsset(kitchen.id);
    assert.equal(twice.body.errors?.[0]?.extensions?.code, "NOT_FOUND");
    await suite.probe.assertClean();
  });

  it("isolates tenants: B's key reaches none of A's photos, media or imports, exactly like a random id (ABUSE 39)", async () => {
    const owner = await photoTenant(suite.app, "isolation-owner");
    const { key, campaignId } = owner;
    const own = (await owner.addPhotos(["view-02.jpg"])).get("view-02.jpg")!;
    const other = await suite.app.newTenant("intruder");
    const random = randomUUID();
    const cases: [string, string][] = [
      ["asset", `query($id: ID!) { asset(id: $id) { id } }`],
      ["updateAsset", `mutation($id: ID!) { updateAsset(id: $id, input: { tags: ["x"] }) { id } }`],
      ["deleteAsset", `mutation($id: ID!) { deleteAsset(id: $id) }`],
      ["assetImport", `query($id: ID!) { assetImport(id: $id) { id } }`],
    ];
    for (const [name, text] of cases) {
      const foreign = await suite.app.graphql(other.key, text, { id: own.id });
      const unknown = await suite.app.graphql(other.key, text, { id: random });
      assert.equal(foreign.body.errors?.[0]?.extensions?.code, "NOT_FOUND", name);
      assert.deepEqual(foreign.body, unknown.body, name);
    }
    const mediaId = new URL(own.url!).pathname.split("/").pop()!;
    const mediaAs = (id: string, apiKey: string) =>
      suite.app.app.inject({ method: "GET", url: `/v1/media/${id}`, headers: { "x-api-key": apiKey } });
    const foreignMedia = await mediaAs(mediaId, other.key);
    const randomMedia = await mediaAs(random, other.key);
    assert.equal(foreignMedia.statusCode, 404);
    assert.equal(foreignMedia.body, randomMedia.body);
    assert.equal((await mediaAs(mediaId, key)).statusCode, 200);

    const upload = await owner.createUpload(
      { campaignId, filename: "x.jpg", contentType: "image/jpeg", byteSize: 100 },
      other.key,
    );
    assert.equal(upload.body.errors?.[0]?.extensions?.code, "NOT_FOUND");
    const imported = await suite.app.graphql(
      other.key,
      `mutation($c: ID!) { importAssets(campaignId: $c, urls: ["http://127.0.0.1/x.jpg"]) { id } }`,
      { c: campaignId },
    );
    assert.equal(imported.body.errors?.[0]?.extensions?.code, "NOT_FOUND");
    const post = await owner.postMultipart([fixtureFile("pool-02.jpg", "x.jpg")], campaignId, other.key);
    assert.equal(post.status, 404);
    assert.equal(
      await suite.probe.count("SELECT count(*) AS n FROM asset WHERE tenant_id = $1", [other.tenantId]),
      0,
    );
    assert.equal(
      await suite.probe.count("SELECT count(*) AS n FROM media WHERE tenant_id = $1", [other.tenantId]),
      0,
    );

    // A read-only key of A cannot upload.
    const reader = await suite.app.newTenant("isolation-owner", ["read"]);
    assert.equal(reader.tenantId, owner.tenantId);
    const denied = await owner.createUpload(
      { campaignId, filename: "r.jpg", contentType: "image/jpeg", byteSize: 10 },
      reader.key,
    );
    assert.equal(denied.body.errors?.[0]?.extensions?.code, "FORBIDDEN");
    const readable = await suite.app.graphql(reader.key, `query($id: ID!) { asset(id: $id) { id } }`, {
      id: own.id,
    });
    assert.equal(readable.body.errors, undefined);
  });

  it("the sweeper removes expired pending uploads, old unreferenced media and ownerless large objects", async () => {
    const photos = await photoTenant(suite.app, "sweep");
    const { campaignId } = photos;
    // An ownerless large object, an unreferenced media row older than the grace period, and an
    // upload whose URL expired long ago.
    await suite.probe.query("SELECT lo_from_bytea(0, 'orphan bytes'::bytea)");
    await suite.probe.query(
      `INSERT INTO media (tenant_id, lo_oid, byte_size, sha256, content_type, created_at)
       VALUES ($1, lo_from_bytea(0, 'old'::bytea), 3, $2, 'image/jpeg', now() - interval '2 hours')`,
      [photos.tenantId, "0".repeat(64)],
    );
    const expired = await photos.createUpload({
      campaignId,
      filename: "late.jpg",
      contentType: "image/jpeg",
      byteSize: 10,
    });
    await suite.probe.query(`UPDATE asset SET upload_expires_at = now() - interval '2 hours' WHERE id = $1`, [
      expired.body.data!.createAssetUpload.asset.id,
    ]);
    // And a photo whose processing was cut short (a crash mid-ingest) long ago.
    const stuck = (
      await photos.createUpload({
        campaignId,
        filename: "stuck.jpg",
        contentType: "image/jpeg",
        byteSize: 10,
      })
    ).body.data!.createAssetUpload.asset.id;
    await suite.probe.query(
      `UPDATE asset SET status = 'PROCESSING', updated_at = now() - interval '2 hours' WHERE id = $1`,
      [stuck],
    );
    // A photo in use stays, bytes and all.
    const kept = (await photos.addPhotos(["bath-01.jpg"])).get("bath-01.jpg")!;
    assert.equal(await suite.probe.orphanLargeObjects(), 1);
    const before = await suite.probe.storage();
    await sweepMediaJob(suite.app.services)({} as never, new PartRun(0, false));
    const after = await suite.probe.storage();
    assert.equal(await suite.probe.orphanLargeObjects(), 0);
    assert.equal(after.media, before.media - 1);
    assert.equal(after.largeObjects, before.largeObjects - 2);
    assert.equal(after.assets, before.assets - 1);
    assert.equal(
      await suite.probe.count(
        "SELECT count(*) AS n FROM asset WHERE status = 'PENDING_UPLOAD' AND upload_expires_at < now()",
      ),
      0,
    );
    const interrupted = await photos.getAsset(stuck);
    assert.equal(interrupted.status, "REJECTED");
    assert.match(interrupted.rejectionReason!, /interrupted/);
    const survivor = await photos.getAsset(kept.id);
    assert.equal(survivor.status, "READY");
    assert.equal((await photos.fetchBytes(survivor.url!)).status, 200);
    await suite.probe.assertClean();
  });
});
