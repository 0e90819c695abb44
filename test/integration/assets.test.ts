/**
 * Photos end to end through the real HTTP stack (inject) on a fresh database with real pg-boss
 * workers: signed uploads, multipart uploads, analysis, dedupe, rejects, update/delete, the
 * sweeper, tenant isolation and URL/listing imports from a local server (ABUSE 10–15, 19–22, 39).
 */
import assert from "node:assert/strict";
import { createHash, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import zlib from "node:zlib";
import sharp from "sharp";
import { PartRun } from "../../src/jobs/part-run.js";
import { sweepMediaJob } from "../../src/jobs/sweep-media.job.js";
import { type InProcessApp, startInProcessApp } from "../helpers/app.js";
import { FIXTURE_PHOTOS_DIR, fixturePhoto, fixturePhotoNames, isKeeper } from "../helpers/fixtures.js";

const MAX_UPLOAD_BYTES = 4 * 1024 * 1024;

const ASSET_FIELDS = `id filename status rejectionReason contentType byteSize width height roomType roomTypeGuess
  tags altText quality { sharpness exposure colourfulness flags } duplicateOfAssetId url thumbnailUrl sourceUrl createdAt`;

interface AssetView {
  id: string;
  filename: string;
  status: string;
  rejectionReason: string | null;
  contentType: string | null;
  byteSize: number | null;
  width: number | null;
  height: number | null;
  roomType: string | null;
  roomTypeGuess: string | null;
  tags: string[];
  altText: string | null;
  quality: { sharpness: number; exposure: number; colourfulness: number; flags: string[] } | null;
  duplicateOfAssetId: string | null;
  url: string | null;
  thumbnailUrl: string | null;
  sourceUrl: string | null;
  createdAt: string;
}

interface RestAsset {
  id: string;
  status: string;
  filename: string;
  rejectionReason: string | null;
}

const sha256 = (bytes: Buffer): string => createHash("sha256").update(bytes).digest("hex");
const pathOf = (url: string): string => {
  const parsed = new URL(url);
  return `${parsed.pathname}${parsed.search}`;
};

/** WxH of every fixture, from the table in SOURCES.md. */
function fixtureSizes(): Map<string, { width: number; height: number }> {
  const text = readFileSync(path.join(FIXTURE_PHOTOS_DIR, "SOURCES.md"), "utf8");
  const sizes = new Map<string, { width: number; height: number }>();
  for (const match of text.matchAll(/^\| `([^`]+\.jpg)` \|[^|]*\|[^|]*\| (\d+)x(\d+) \|/gm)) {
    sizes.set(match[1]!, { width: Number(match[2]), height: Number(match[3]) });
  }
  return sizes;
}

const ROOM_OF_PREFIX: Record<string, string> = {
  exterior: "EXTERIOR",
  pool: "POOL",
  living: "LIVING",
  kitchen: "KITCHEN",
  bedroom: "BEDROOM",
  bath: "BATH",
  dining: "DINING",
  view: "VIEW",
};

function multipart(files: { filename: string; contentType: string; bytes: Buffer }[]): {
  payload: Buffer;
  contentType: string;
} {
  const boundary = `----propvid${randomUUID().replaceAll("-", "")}`;
  const parts: Buffer[] = [];
  for (const file of files) {
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="photos"; filename="${file.filename}"\r\n` +
          `Content-Type: ${file.contentType}\r\n\r\n`,
      ),
      file.bytes,
      Buffer.from("\r\n"),
    );
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A few hundred bytes declaring width×height RGB pixels (a decompression bomb's header). */
function pngDeclaring(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk("IHDR", ihdr),
    pngChunk("IDAT", zlib.deflateSync(Buffer.alloc(4096))),
    pngChunk("IEND", Buffer.alloc(0)),
  ]);
}

/** A JPEG header whose frame declares 65535×65535. */
function jpegDeclaring(width: number, height: number): Buffer {
  const sof = Buffer.from([
    0xff, 0xc0, 0x00, 0x11, 0x08, 0, 0, 0, 0, 0x03, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1,
  ]);
  sof.writeUInt16BE(height, 5);
  sof.writeUInt16BE(width, 7);
  const app0 = Buffer.from([0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]);
  return Buffer.concat([
    Buffer.from([0xff, 0xd8]),
    app0,
    sof,
    Buffer.alloc(2048, 0x55),
    Buffer.from([0xff, 0xd9]),
  ]);
}

async function poolMap<T, R>(items: T[], concurrency: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await fn(items[index]!);
      }
    }),
  );
  return results;
}

describe("photos: uploads, analysis, dedupe, rejects, imports", () => {
  let app: InProcessApp;
  let key: string;
  let tenantId: string;
  let campaignId: string;
  const byName = new Map<string, AssetView>();
  const sizes = fixtureSizes();

  const query = async (sql: string, params: unknown[] = []) =>
    (await app.services.dataSource.query(sql, params)) as Record<string, unknown>[];
  const count = async (sql: string, params: unknown[] = []) => Number((await query(sql, params))[0]!["n"]);
  const storage = async () => ({
    media: await count("SELECT count(*) AS n FROM media"),
    largeObjects: await count("SELECT count(*) AS n FROM pg_largeobject_metadata"),
    assets: await count("SELECT count(*) AS n FROM asset"),
  });
  const orphanLargeObjects = () =>
    count(
      `SELECT count(*) AS n FROM pg_largeobject_metadata l
        WHERE NOT EXISTS (SELECT 1 FROM media m WHERE m.lo_oid = l.oid::bigint)`,
    );

  async function createCampaign(apiKey: string, name: string): Promise<string> {
    const created = await app.graphql<{ createCampaign: { id: string } }>(
      apiKey,
      `mutation($n: String!) { createCampaign(input: { name: $n }) { id } }`,
      { n: name },
    );
    return created.body.data!.createCampaign.id;
  }

  async function createUpload(
    apiKey: string,
    input: { campaignId: string; filename: string; contentType: string; byteSize: number },
  ) {
    return await app.graphql<{
      createAssetUpload: { uploadUrl: string; expiresAt: string; asset: { id: string; status: string } };
    }>(
      apiKey,
      `mutation($input: CreateAssetUploadInput!) {
        createAssetUpload(input: $input) { uploadUrl expiresAt asset { id status } }
      }`,
      { input },
    );
  }

  /** createAssetUpload + PUT of the raw bytes with no headers at all. */
  async function uploadSigned(
    filename: string,
    bytes: Buffer,
    contentType = "image/jpeg",
    target = campaignId,
  ) {
    const created = await createUpload(key, {
      campaignId: target,
      filename,
      contentType,
      byteSize: bytes.length,
    });
    assert.equal(created.body.errors, undefined, JSON.stringify(created.body.errors));
    const upload = created.body.data!.createAssetUpload;
    const response = await app.app.inject({ method: "PUT", url: pathOf(upload.uploadUrl), payload: bytes });
    return { upload, response };
  }

  async function getAsset(id: string, apiKey = key): Promise<AssetView> {
    const result = await app.graphql<{ asset: AssetView }>(
      apiKey,
      `query($id: ID!) { asset(id: $id) { ${ASSET_FIELDS} } }`,
      {
        id,
      },
    );
    assert.equal(result.body.errors, undefined, JSON.stringify(result.body.errors));
    return result.body.data!.asset;
  }

  async function postMultipart(
    files: { filename: string; contentType: string; bytes: Buffer }[],
    target = campaignId,
  ) {
    const { payload, contentType } = multipart(files);
    const response = await app.app.inject({
      method: "POST",
      url: `/v1/campaigns/${target}/assets`,
      headers: { "content-type": contentType, "x-api-key": key },
      payload,
    });
    return {
      status: response.statusCode,
      body: response.json() as {
        results?: { filename: string; asset?: RestAsset; error?: { code: string; message: string } }[];
        error?: { code: string };
      },
    };
  }

  async function fetchBytes(url: string) {
    const response = await app.app.inject({ method: "GET", url: pathOf(url) });
    return { status: response.statusCode, headers: response.headers, bytes: response.rawPayload };
  }

  before(async () => {
    app = await startInProcessApp({
      PROPVID_TEST_ALLOW_LOOPBACK_FETCH: "1",
      MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES),
      PUBLIC_BASE_URL: "http://media.propvid.test",
    });
    ({ key, tenantId } = await app.newTenant("photos"));
    campaignId = await createCampaign(key, "Seaside villa");
  });
  after(async () => {
    await app?.close();
  });

  it("uploads the 30 keeper photos by signed URL: each READY with size, quality and a 512 px thumbnail", async () => {
    const keepers = fixturePhotoNames().filter(isKeeper);
    assert.equal(keepers.length, 30);
    const started = Date.now();
    const uploaded = await poolMap(keepers, 4, async (name) => {
      const { upload, response } = await uploadSigned(name, readFileSync(fixturePhoto(name)));
      assert.equal(upload.asset.status, "PENDING_UPLOAD");
      assert.equal(response.statusCode, 200, `${name}: ${response.body}`);
      const body = response.json() as { asset: RestAsset };
      assert.equal(body.asset.status, "READY");
      return body.asset;
    });
    const elapsed = Date.now() - started;

    for (const [index, name] of keepers.entries()) {
      const asset = await getAsset(uploaded[index]!.id);
      byName.set(name, asset);
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
      assert.equal(asset.roomType, ROOM_OF_PREFIX[name.split("-")[0]!], name);

      // The original comes back byte for byte; the thumbnail is a JPEG of at most 512 px.
      assert.ok(asset.url?.startsWith("http://media.propvid.test/v1/media/"));
      const original = await fetchBytes(asset.url!);
      assert.equal(original.status, 200);
      assert.equal(original.headers["content-type"], "image/jpeg");
      assert.equal(sha256(original.bytes), sha256(bytes), name);
      const thumbnail = await fetchBytes(asset.thumbnailUrl!);
      assert.equal(thumbnail.status, 200);
      const meta = await sharp(thumbnail.bytes).metadata();
      assert.equal(meta.format, "jpeg");
      assert.equal(Math.max(meta.width!, meta.height!), 512, name);
      assert.equal(meta.width! > meta.height!, expected.width > expected.height, `${name} orientation`);
    }
    const stored = await storage();
    assert.equal(stored.assets, 30);
    assert.equal(stored.media, 60, "30 originals and 30 thumbnails");
    assert.equal(stored.largeObjects, 60);
    assert.ok(elapsed < 30_000, `30 uploads took ${elapsed} ms`);
  });

  it("Campaign.assets pages through the photos, newest first, without gaps or repeats", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 10; pages++) {
      const page: {
        body: {
          data?: {
            campaign: {
              assets: {
                edges: { node: { id: string; status: string } }[];
                pageInfo: { hasNextPage: boolean; endCursor: string | null };
              };
            };
          };
        };
      } = await app.graphql(
        key,
        `query($id: ID!, $after: String) { campaign(id: $id) {
          assets(first: 7, after: $after) { edges { node { id status } } pageInfo { hasNextPage endCursor } } } }`,
        { id: campaignId, after: cursor },
      );
      const connection = page.body.data!.campaign.assets;
      assert.ok(connection.edges.length <= 7);
      seen.push(...connection.edges.map((edge) => edge.node.id));
      if (!connection.pageInfo.hasNextPage) break;
      cursor = connection.pageInfo.endCursor;
    }
    assert.equal(seen.length, 30);
    assert.equal(new Set(seen).size, 30);
    assert.deepEqual(new Set(seen), new Set([...byName.values()].map((asset) => asset.id)));
  });

  it("flags the documented rejects: floor plan DOCUMENT, duplicates DUPLICATE of the keeper, blur, dark", async () => {
    const rejects = fixturePhotoNames().filter((name) => !isKeeper(name));
    assert.equal(rejects.length, 7);
    const before = await storage();
    const response = await postMultipart(
      rejects.map((name) => ({
        filename: name,
        contentType: "image/jpeg",
        bytes: readFileSync(fixturePhoto(name)),
      })),
    );
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.deepEqual(
      response.body.results!.map((result) => [result.filename, result.asset?.status]),
      rejects.map((name) => [name, "READY"]),
    );
    for (const result of response.body.results!)
      byName.set(result.filename, await getAsset(result.asset!.id));

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
    for (const name of ["dining-03.jpg", "living-01.jpg", "kitchen-02.jpg"]) {
      assert.equal((await getAsset(byName.get(name)!.id)).duplicateOfAssetId, null);
    }
    const after = await storage();
    assert.equal(after.assets, before.assets + 7);
    assert.equal(after.media, before.media + 14);
    assert.equal(after.largeObjects, after.media);
  });

  it("never makes the good take a duplicate of a worse one, whatever the upload order", async () => {
    const other = await createCampaign(key, "Upload order");
    const names = ["reject-blurry-01.jpg", "kitchen-02.jpg", "reject-dup-of-dining-03.jpg", "dining-03.jpg"];
    const response = await postMultipart(
      names.map((name) => ({
        filename: name,
        contentType: "image/jpeg",
        bytes: readFileSync(fixturePhoto(name)),
      })),
      other,
    );
    assert.equal(response.status, 200);
    const [blurry, kitchen, bigCopy, dining] = await Promise.all(
      response.body.results!.map((result) => getAsset(result.asset!.id)),
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
    const bytes = readFileSync(fixturePhoto("kitchen-01.jpg"));
    const before = await storage();
    const viaMultipart = await postMultipart([
      { filename: "copy-of-kitchen.jpg", contentType: "image/jpeg", bytes },
    ]);
    assert.equal(viaMultipart.status, 200);
    const viaPut = await uploadSigned("kitchen-again.jpg", bytes);
    assert.equal(viaPut.response.statusCode, 200);
    const original = byName.get("kitchen-01.jpg")!;
    for (const id of [
      viaMultipart.body.results![0]!.asset!.id,
      (viaPut.response.json() as { asset: RestAsset }).asset.id,
    ]) {
      const copy = await getAsset(id);
      assert.equal(copy.status, "READY");
      assert.equal(copy.duplicateOfAssetId, original.id);
      assert.ok(copy.quality!.flags.includes("DUPLICATE"));
    }
    const rows = await query(
      `SELECT DISTINCT media_id, thumbnail_media_id FROM asset WHERE id = ANY($1::uuid[])`,
      [
        [
          original.id,
          viaMultipart.body.results![0]!.asset!.id,
          (viaPut.response.json() as { asset: RestAsset }).asset.id,
        ],
      ],
    );
    assert.equal(rows.length, 1, "all three point at the same original and thumbnail");
    assert.equal(await count("SELECT count(*) AS n FROM media WHERE sha256 = $1", [sha256(bytes)]), 1);
    const after = await storage();
    assert.equal(after.assets, before.assets + 2);
    assert.equal(after.media, before.media);
    assert.equal(after.largeObjects, before.largeObjects);
  });

  it("decides the type by magic bytes: a PNG named .jpg is stored and served as PNG (ABUSE 12)", async () => {
    const png = await sharp({ create: { width: 640, height: 480, channels: 3, background: "#3a6ea5" } })
      .png()
      .toBuffer();
    const { response } = await uploadSigned("garden.jpg", png, "image/jpeg");
    assert.equal(response.statusCode, 200, response.body);
    const asset = await getAsset((response.json() as { asset: RestAsset }).asset.id);
    assert.equal(asset.contentType, "image/png");
    assert.deepEqual([asset.width, asset.height], [640, 480]);
    const served = await fetchBytes(asset.url!);
    assert.equal(served.headers["content-type"], "image/png");
    assert.match(String(served.headers["content-disposition"]), /^inline; filename="[^"]+\.png"$/);
    assert.equal(sha256(served.bytes), sha256(png));
  });

  it("answers 415 for HTML, SVG, PDF and text sent as images, storing nothing (ABUSE 12)", async () => {
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
    const before = await storage();
    const response = await postMultipart(impostors);
    assert.equal(response.status, 415);
    assert.deepEqual(
      response.body.results!.map((result) => result.error?.code),
      impostors.map(() => "UNSUPPORTED_MEDIA_TYPE"),
    );
    assert.deepEqual(await storage(), before, "no asset, media or large object");

    // The same through a signed URL: 415, the asset is REJECTED with a reason, no media.
    for (const impostor of impostors) {
      const { upload, response: put } = await uploadSigned(
        impostor.filename,
        impostor.bytes,
        impostor.contentType,
      );
      assert.equal(put.statusCode, 415, impostor.filename);
      assert.equal((put.json() as { error: { code: string } }).error.code, "UNSUPPORTED_MEDIA_TYPE");
      const asset = await getAsset(upload.asset.id);
      assert.equal(asset.status, "REJECTED");
      assert.ok(asset.rejectionReason);
      assert.equal(asset.url, null);
    }
    const after = await storage();
    assert.equal(after.media, before.media);
    assert.equal(after.largeObjects, before.largeObjects);

    const declared = await createUpload(key, {
      campaignId,
      filename: "x.pdf",
      contentType: "application/pdf",
      byteSize: 10,
    });
    assert.equal(declared.body.errors?.[0]?.extensions?.code, "UNSUPPORTED_MEDIA_TYPE");
  });

  it("rejects pixel bombs from the header, fast, with flat memory (ABUSE 13)", async () => {
    const before = await storage();
    const bombs = [
      { name: "bomb.png", bytes: pngDeclaring(14_000, 14_000) },
      { name: "bomb.jpg", bytes: jpegDeclaring(65_535, 65_535) },
    ];
    for (const bomb of bombs) {
      const rss = process.memoryUsage().rss;
      const started = Date.now();
      const { upload, response } = await uploadSigned(bomb.name, bomb.bytes);
      const elapsed = Date.now() - started;
      assert.equal(response.statusCode, 422, response.body);
      const body = response.json() as { asset: RestAsset; error: { code: string } };
      assert.equal(body.error.code, "MEDIA_REJECTED");
      assert.equal(body.asset.status, "REJECTED");
      assert.match(body.asset.rejectionReason!, /pixels/);
      assert.ok(elapsed < 2_000, `${bomb.name} took ${elapsed} ms`);
      assert.ok(process.memoryUsage().rss - rss < 64 * 1024 * 1024, `${bomb.name}: memory grew`);
      assert.equal((await getAsset(upload.asset.id)).status, "REJECTED");
    }
    const multi = await postMultipart([
      { filename: "bomb2.png", contentType: "image/png", bytes: bombs[0]!.bytes },
    ]);
    assert.equal(multi.body.results![0]!.asset!.status, "REJECTED");
    const after = await storage();
    assert.equal(after.media, before.media);
    assert.equal(after.largeObjects, before.largeObjects);
  });

  it("rejects a truncated JPEG and a PNG with a bad CRC with a reason, storing no media (ABUSE 14)", async () => {
    const jpeg = readFileSync(fixturePhoto("living-05.jpg"));
    const png = await sharp({ create: { width: 300, height: 200, channels: 3, background: "#884422" } })
      .png()
      .toBuffer();
    const badCrc = Buffer.from(png);
    badCrc[29] = badCrc[29]! ^ 0xff; // inside IHDR's CRC
    const before = await storage();
    for (const [name, bytes] of [
      ["truncated.jpg", jpeg.subarray(0, Math.floor(jpeg.length * 0.6))],
      ["bad-crc.png", badCrc],
    ] as const) {
      const { upload, response } = await uploadSigned(name, bytes);
      assert.equal(response.statusCode, 422, name);
      const asset = await getAsset(upload.asset.id);
      assert.equal(asset.status, "REJECTED");
      assert.match(asset.rejectionReason!, /corrupt or truncated/);
      assert.equal(asset.url, null);
      assert.equal(asset.thumbnailUrl, null);
    }
    const after = await storage();
    assert.equal(after.media, before.media);
    assert.equal(after.largeObjects, before.largeObjects);
  });

  it("refuses uploads over the cap with 413, aborting the read early, storing nothing (ABUSE 10)", async () => {
    const declared = await createUpload(key, {
      campaignId,
      filename: "huge.jpg",
      contentType: "image/jpeg",
      byteSize: MAX_UPLOAD_BYTES + 1,
    });
    assert.equal(declared.body.errors?.[0]?.extensions?.code, "PAYLOAD_TOO_LARGE");

    const before = await storage();
    // A body longer than the announced size: the server stops reading soon after the cap.
    const bytes = readFileSync(fixturePhoto("pool-01.jpg"));
    const created = await createUpload(key, {
      campaignId,
      filename: "pool.jpg",
      contentType: "image/jpeg",
      byteSize: bytes.length,
    });
    const upload = created.body.data!.createAssetUpload;
    let pulled = 0;
    const total = 64 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 1);
    const endless = new Readable({
      read() {
        if (pulled >= total) return this.push(null);
        pulled += chunk.length;
        this.push(chunk);
      },
    });
    const overLong = await app.app.inject({ method: "PUT", url: pathOf(upload.uploadUrl), payload: endless });
    assert.equal(overLong.statusCode, 413);
    assert.equal(overLong.headers.connection, "close", "the rest of the body is not drained");
    assert.equal((overLong.json() as { error: { code: string } }).error.code, "PAYLOAD_TOO_LARGE");
    assert.ok(pulled < bytes.length + 4 * 1024 * 1024, `read ${pulled} bytes of ${total}`);
    assert.equal((await getAsset(upload.asset.id)).status, "PENDING_UPLOAD", "the URL may be retried");

    // A Content-Length over the server's cap is refused before the body is read.
    const declaredTooBig = await app.app.inject({
      method: "PUT",
      url: pathOf(upload.uploadUrl),
      headers: { "content-length": String(MAX_UPLOAD_BYTES + 10) },
      payload: Buffer.alloc(16),
    });
    assert.equal(declaredTooBig.statusCode, 413);

    // A Content-Length over this URL's announced size is refused before the body is read too.
    const declaredOverCap = await app.app.inject({
      method: "PUT",
      url: pathOf(upload.uploadUrl),
      headers: { "content-length": String(bytes.length + 1) },
      payload: Buffer.alloc(bytes.length + 1),
    });
    assert.equal(declaredOverCap.statusCode, 413);
    assert.equal(declaredOverCap.headers.connection, "close");

    assert.deepEqual(
      await storage(),
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
    const big = await app.app.inject({
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
      await storage(),
      { ...before, assets: before.assets + 2 },
      "no row and no bytes for big.jpg",
    );
    assert.equal(await orphanLargeObjects(), 0);

    // The retried URL with the right bytes still works.
    const retry = await app.app.inject({ method: "PUT", url: pathOf(upload.uploadUrl), payload: bytes });
    assert.equal(retry.statusCode, 200, retry.body);
  });

  it("keeps nothing when the client disconnects halfway through a PUT; the retry and the next upload work (ABUSE 11)", async () => {
    const address = await app.app.listen({ port: 0, host: "127.0.0.1" });
    const bytes = readFileSync(fixturePhoto("bedroom-01.jpg"));
    const created = await createUpload(key, {
      campaignId,
      filename: "bedroom-upload.jpg",
      contentType: "image/jpeg",
      byteSize: bytes.length,
    });
    const upload = created.body.data!.createAssetUpload;
    const before = await storage();
    const statusOf = async () => (await getAsset(upload.asset.id)).status;
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
    assert.deepEqual(await storage(), before, "no media and no large object from the aborted transfer");
    assert.equal(await orphanLargeObjects(), 0);

    const retry = await fetch(`${address}${pathOf(upload.uploadUrl)}`, { method: "PUT", body: bytes });
    assert.equal(retry.status, 200);
    assert.equal(((await retry.json()) as { asset: RestAsset }).asset.status, "READY");
    const next = await uploadSigned(
      "bath-again.png",
      await sharp(readFileSync(fixturePhoto("bath-01.jpg")))
        .png()
        .toBuffer(),
    );
    assert.equal(next.response.statusCode, 200);
  });

  it("makes upload URLs single-use and bound to their asset; bad tokens get 403 with no body", async () => {
    const bytes = readFileSync(fixturePhoto("exterior-05.jpg"));
    const first = await uploadSigned("exterior-again.jpg", bytes);
    assert.equal(first.response.statusCode, 200);
    const again = await app.app.inject({
      method: "PUT",
      url: pathOf(first.upload.uploadUrl),
      payload: bytes,
    });
    assert.equal(again.statusCode, 409);

    const other = (
      await createUpload(key, {
        campaignId,
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
      const response = await app.app.inject({ method: "PUT", url, payload: bytes });
      assert.equal(response.statusCode, 403, url);
      assert.equal(response.body, "", url);
    }
    assert.equal((await getAsset(other.asset.id)).status, "PENDING_UPLOAD");
  });

  it("updates room type and tags, and deletes photos with their media once nothing uses it", async () => {
    const living = byName.get("living-03.jpg")!;
    const updated = await app.graphql<{ updateAsset: AssetView }>(
      key,
      `mutation($id: ID!) { updateAsset(id: $id, input: { roomType: DINING, tags: [" sofa ", "sofa", "corner"] }) { ${ASSET_FIELDS} } }`,
      { id: living.id },
    );
    assert.equal(updated.body.errors, undefined);
    assert.equal(updated.body.data!.updateAsset.roomType, "DINING");
    assert.deepEqual(updated.body.data!.updateAsset.tags, ["sofa", "corner"]);
    const reset = await app.graphql<{ updateAsset: AssetView }>(
      key,
      `mutation($id: ID!) { updateAsset(id: $id, input: { roomType: null }) { roomType roomTypeGuess } }`,
      { id: living.id },
    );
    assert.equal(reset.body.data!.updateAsset.roomType, "LIVING");
    const tooMany = await app.graphql(
      key,
      `mutation($id: ID!, $t: [String!]) { updateAsset(id: $id, input: { tags: $t }) { id } }`,
      {
        id: living.id,
        t: Array.from({ length: 51 }, (_, i) => `t${i}`),
      },
    );
    assert.equal(tooMany.body.errors?.[0]?.extensions?.code, "BAD_USER_INPUT");

    // kitchen-01 has two byte-identical copies: deleting copies and original frees the media only at the end.
    const kitchen = byName.get("kitchen-01.jpg")!;
    const sha = sha256(readFileSync(fixturePhoto("kitchen-01.jpg")));
    const copies = (
      await query(`SELECT id FROM asset WHERE duplicate_of_asset_id = $1 ORDER BY created_at`, [kitchen.id])
    ).map((row) => String(row["id"]));
    assert.equal(copies.length, 2);
    const deleteAsset = (id: string) =>
      app.graphql<{ deleteAsset: boolean }>(key, `mutation($id: ID!) { deleteAsset(id: $id) }`, { id });
    assert.equal((await deleteAsset(copies[0]!)).body.data!.deleteAsset, true);
    assert.equal(await count("SELECT count(*) AS n FROM media WHERE sha256 = $1", [sha]), 1);

    // Deleting the original promotes the remaining copy: no dangling duplicateOfAssetId.
    const before = await storage();
    assert.equal((await deleteAsset(kitchen.id)).body.data!.deleteAsset, true);
    const promoted = await getAsset(copies[1]!);
    assert.equal(promoted.duplicateOfAssetId, null);
    assert.ok(!promoted.quality!.flags.includes("DUPLICATE"));
    assert.equal(await count("SELECT count(*) AS n FROM media WHERE sha256 = $1", [sha]), 1);
    assert.deepEqual(await storage(), { ...before, assets: before.assets - 1 });

    assert.equal((await deleteAsset(copies[1]!)).body.data!.deleteAsset, true);
    assert.equal(await count("SELECT count(*) AS n FROM media WHERE sha256 = $1", [sha]), 0);
    const after = await storage();
    assert.equal(after.media, before.media - 2, "original and thumbnail are gone");
    assert.equal(after.largeObjects, after.media);
    const gone = await app.graphql(key, `query($id: ID!) { asset(id: $id) { id } }`, { id: kitchen.id });
    assert.equal(gone.body.errors?.[0]?.extensions?.code, "NOT_FOUND");
    const twice = await deleteAsset(kitchen.id);
    assert.equal(twice.body.errors?.[0]?.extensions?.code, "NOT_FOUND");
  });

  it("isolates tenants: B's key reaches none of A's photos, media or imports, exactly like a random id (ABUSE 39)", async () => {
    const other = await app.newTenant("intruder");
    const own = byName.get("view-02.jpg")!;
    const random = randomUUID();
    const cases: [string, string][] = [
      ["asset", `query($id: ID!) { asset(id: $id) { id } }`],
      ["updateAsset", `mutation($id: ID!) { updateAsset(id: $id, input: { tags: ["x"] }) { id } }`],
      ["deleteAsset", `mutation($id: ID!) { deleteAsset(id: $id) }`],
      ["assetImport", `query($id: ID!) { assetImport(id: $id) { id } }`],
    ];
    for (const [name, text] of cases) {
      const foreign = await app.graphql(other.key, text, { id: own.id });
      const unknown = await app.graphql(other.key, text, { id: random });
      assert.equal(foreign.body.errors?.[0]?.extensions?.code, "NOT_FOUND", name);
      assert.deepEqual(foreign.body, unknown.body, name);
    }
    const mediaId = new URL(own.url!).pathname.split("/").pop()!;
    const foreignMedia = await app.app.inject({
      method: "GET",
      url: `/v1/media/${mediaId}`,
      headers: { "x-api-key": other.key },
    });
    const randomMedia = await app.app.inject({
      method: "GET",
      url: `/v1/media/${random}`,
      headers: { "x-api-key": other.key },
    });
    assert.equal(foreignMedia.statusCode, 404);
    assert.equal(foreignMedia.body, randomMedia.body);
    const ownMedia = await app.app.inject({
      method: "GET",
      url: `/v1/media/${mediaId}`,
      headers: { "x-api-key": key },
    });
    assert.equal(ownMedia.statusCode, 200);

    const upload = await createUpload(other.key, {
      campaignId,
      filename: "x.jpg",
      contentType: "image/jpeg",
      byteSize: 100,
    });
    assert.equal(upload.body.errors?.[0]?.extensions?.code, "NOT_FOUND");
    const imported = await app.graphql(
      other.key,
      `mutation($c: ID!) { importAssets(campaignId: $c, urls: ["http://127.0.0.1/x.jpg"]) { id } }`,
      {
        c: campaignId,
      },
    );
    assert.equal(imported.body.errors?.[0]?.extensions?.code, "NOT_FOUND");
    const { payload, contentType } = multipart([
      { filename: "x.jpg", contentType: "image/jpeg", bytes: readFileSync(fixturePhoto("pool-02.jpg")) },
    ]);
    const post = await app.app.inject({
      method: "POST",
      url: `/v1/campaigns/${campaignId}/assets`,
      headers: { "content-type": contentType, "x-api-key": other.key },
      payload,
    });
    assert.equal(post.statusCode, 404);
    assert.equal(await count("SELECT count(*) AS n FROM asset WHERE tenant_id <> $1", [tenantId]), 0);

    // A read-only key of A cannot upload.
    const reader = await app.newTenant("photos", ["read"]);
    assert.equal(reader.tenantId, tenantId);
    const denied = await createUpload(reader.key, {
      campaignId,
      filename: "r.jpg",
      contentType: "image/jpeg",
      byteSize: 10,
    });
    assert.equal(denied.body.errors?.[0]?.extensions?.code, "FORBIDDEN");
    const readable = await app.graphql(reader.key, `query($id: ID!) { asset(id: $id) { id } }`, {
      id: own.id,
    });
    assert.equal(readable.body.errors, undefined);
  });

  describe("imports from a local listing server", () => {
    let server: http.Server;
    let base: string;
    let importCampaign: string;
    let terrace: Buffer;
    const requested: string[] = [];
    const photos: Record<string, string> = {
      "/img/IMG_1001.jpg": "kitchen-03.jpg",
      "/img/IMG_1002.jpg": "bedroom-03.jpg",
      "/img/IMG_1003.jpg": "exterior-02.jpg",
    };

    before(async () => {
      // A photo only this listing has (the others are also in the first campaign).
      const gradient = Buffer.alloc(900 * 600 * 3);
      for (let i = 0; i < gradient.length; i++) gradient[i] = (i * 7) % 251;
      terrace = await sharp(gradient, { raw: { width: 900, height: 600, channels: 3 } })
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
        const fixture = photos[url.pathname];
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
      importCampaign = await createCampaign(key, "Harbour Rd");
    });
    after(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });

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

    async function waitForImport(id: string): Promise<ImportView> {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const result = await app.graphql<{ assetImport: ImportView }>(
          key,
          `query($id: ID!) { assetImport(id: $id) { ${IMPORT_FIELDS} } }`,
          { id },
        );
        const row = result.body.data!.assetImport;
        if (row.status === "SUCCEEDED" || row.status === "FAILED") return row;
        if (Date.now() > deadline) throw new Error(`import still ${row.status}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }

    it("importListing imports the page's photos with their alt texts and blocks the SSRF ones per URL", async () => {
      const started = await app.graphql<{ importListing: ImportView }>(
        key,
        `mutation($c: ID!, $u: String!) { importListing(campaignId: $c, pageUrl: $u) { ${IMPORT_FIELDS} } }`,
        { c: importCampaign, u: `${base}/listing` },
      );
      assert.equal(started.body.errors, undefined, JSON.stringify(started.body.errors));
      assert.equal(started.body.data!.importListing.kind, "LISTING");
      const done = await waitForImport(started.body.data!.importListing.id);
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

      const imported = await count("SELECT count(*) AS n FROM asset WHERE campaign_id = $1", [
        importCampaign,
      ]);
      assert.equal(imported, 4, "no asset for blocked, missing or non-image URLs");
      // The imported bytes are the source's bytes.
      const asset = await getAsset(kitchen.asset!.id);
      assert.equal(
        sha256((await fetchBytes(asset.url!)).bytes),
        sha256(readFileSync(fixturePhoto("kitchen-03.jpg"))),
      );
    });

    it("importAssets records static refusals at once and imports the rest in the background", async () => {
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
      const started = await app.graphql<{ importAssets: ImportView }>(
        key,
        `mutation($c: ID!, $u: [String!]!) { importAssets(campaignId: $c, urls: $u) { ${IMPORT_FIELDS} } }`,
        { c: importCampaign, u: urls },
      );
      assert.equal(started.body.errors, undefined, JSON.stringify(started.body.errors));
      const initial = started.body.data!.importAssets;
      assert.equal(initial.kind, "URLS");
      assert.deepEqual(
        initial.results.map((result) => result.status),
        ["PENDING", "FAILED", "FAILED", "FAILED", "FAILED", "FAILED", "FAILED"],
      );
      const done = await waitForImport(initial.id);
      assert.equal(done.status, "SUCCEEDED");
      assert.equal(done.results[0]!.status, "DUPLICATE", "the same photo is already in this campaign");
      assert.equal(done.results[0]!.asset!.status, "READY");
      for (const result of done.results.slice(1)) {
        assert.equal(result.status, "FAILED", result.url);
        assert.ok(
          result.errorCode === "URL_NOT_ALLOWED" || result.errorCode === "BAD_USER_INPUT",
          result.url,
        );
      }
      assert.deepEqual(requested.slice(seenBefore), ["/img/IMG_1001.jpg"]);

      const refused = await app.graphql(
        key,
        `mutation($c: ID!) { importListing(campaignId: $c, pageUrl: "http://169.254.169.254/listing") { id } }`,
        { c: importCampaign },
      );
      assert.equal(refused.body.errors?.[0]?.extensions?.code, "URL_NOT_ALLOWED");
      const empty = await app.graphql(
        key,
        `mutation($c: ID!) { importAssets(campaignId: $c, urls: []) { id } }`,
        {
          c: importCampaign,
        },
      );
      assert.equal(empty.body.errors?.[0]?.extensions?.code, "BAD_USER_INPUT");
    });

    it("deleting the campaign removes its photos and the media only it used", async () => {
      const mediaOfCampaign = (
        await query(
          `SELECT unnest(ARRAY[media_id, thumbnail_media_id]) AS id FROM asset WHERE campaign_id = $1`,
          [importCampaign],
        )
      ).map((row) => String(row["id"]));
      // The listing's fixture photos share their media with the first campaign (same tenant, same bytes).
      const shared = await count(
        `SELECT count(DISTINCT m.id) AS n FROM media m JOIN asset a ON a.media_id = m.id OR a.thumbnail_media_id = m.id
          WHERE m.id = ANY($1::uuid[]) AND a.campaign_id <> $2`,
        [mediaOfCampaign, importCampaign],
      );
      assert.equal(shared, 6, "three originals and three thumbnails are shared");
      const before = await storage();
      const deleted = await app.graphql<{ deleteCampaign: boolean }>(
        key,
        `mutation($id: ID!) { deleteCampaign(id: $id) }`,
        {
          id: importCampaign,
        },
      );
      assert.equal(deleted.body.data?.deleteCampaign, true);
      assert.equal(
        await count("SELECT count(*) AS n FROM asset WHERE campaign_id = $1", [importCampaign]),
        0,
      );
      assert.equal(
        await count("SELECT count(*) AS n FROM media WHERE id = ANY($1::uuid[])", [mediaOfCampaign]),
        shared,
      );
      const after = await storage();
      assert.equal(after.media, before.media - 2, "the terrace photo and its thumbnail are gone");
      assert.equal(after.largeObjects, before.largeObjects - 2);
      assert.equal(await orphanLargeObjects(), 0);
    });
  });

  it("the sweeper removes expired pending uploads, old unreferenced media and ownerless large objects", async () => {
    // An ownerless large object, an unreferenced media row older than the grace period, and an
    // upload whose URL expired long ago.
    await query("SELECT lo_from_bytea(0, 'orphan bytes'::bytea)");
    await query(
      `INSERT INTO media (tenant_id, lo_oid, byte_size, sha256, content_type, created_at)
       VALUES ($1, lo_from_bytea(0, 'old'::bytea), 3, $2, 'image/jpeg', now() - interval '2 hours')`,
      [tenantId, "0".repeat(64)],
    );
    const expired = await createUpload(key, {
      campaignId,
      filename: "late.jpg",
      contentType: "image/jpeg",
      byteSize: 10,
    });
    await query(`UPDATE asset SET upload_expires_at = now() - interval '2 hours' WHERE id = $1`, [
      expired.body.data!.createAssetUpload.asset.id,
    ]);
    // And a photo whose processing was cut short (a crash mid-ingest) long ago.
    const stuck = (
      await createUpload(key, { campaignId, filename: "stuck.jpg", contentType: "image/jpeg", byteSize: 10 })
    ).body.data!.createAssetUpload.asset.id;
    await query(
      `UPDATE asset SET status = 'PROCESSING', updated_at = now() - interval '2 hours' WHERE id = $1`,
      [stuck],
    );
    assert.equal(await orphanLargeObjects(), 1);
    const before = await storage();
    await sweepMediaJob(app.services)({} as never, new PartRun(0, false));
    const after = await storage();
    assert.equal(await orphanLargeObjects(), 0);
    assert.equal(after.media, before.media - 1);
    assert.equal(after.largeObjects, before.largeObjects - 2);
    assert.equal(after.assets, before.assets - 1);
    assert.equal(
      await count(
        "SELECT count(*) AS n FROM asset WHERE status = 'PENDING_UPLOAD' AND upload_expires_at < now()",
      ),
      0,
    );
    const interrupted = await getAsset(stuck);
    assert.equal(interrupted.status, "REJECTED");
    assert.match(interrupted.rejectionReason!, /interrupted/);
  });

  it("leaves no large object without a media row and no media row without a reference", async () => {
    assert.equal(await orphanLargeObjects(), 0);
    const unreferenced = await count(
      `SELECT count(*) AS n FROM media m WHERE NOT EXISTS (SELECT 1 FROM asset a WHERE a.media_id = m.id OR a.thumbnail_media_id = m.id)`,
    );
    assert.equal(unreferenced, 0);
    assert.equal(await count("SELECT count(*) AS n FROM asset WHERE status = 'PROCESSING'"), 0);
  });
});
