/**
 * Photos through the real HTTP stack (inject) for the asset tests: a tenant with a campaign,
 * signed and multipart uploads, GraphQL reads, storage counts, and hostile image builders.
 */
import assert from "node:assert/strict";
import { createHash, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { after, before } from "node:test";
import zlib from "node:zlib";
import { type InProcessApp, startInProcessApp } from "./app.js";
import { FIXTURE_PHOTOS_DIR, fixturePhoto } from "./fixtures.js";

export const ASSET_FIELDS = `id filename status rejectionReason contentType byteSize width height roomType roomTypeGuess
  tags altText quality { sharpness exposure colourfulness flags } duplicateOfAssetId url thumbnailUrl sourceUrl createdAt`;

export interface AssetView {
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

/** An asset as the REST routes describe it. */
export interface RestAsset {
  id: string;
  status: string;
  filename: string;
  rejectionReason: string | null;
}

export interface UploadFile {
  filename: string;
  contentType: string;
  bytes: Buffer;
}

export const sha256 = (bytes: Buffer): string => createHash("sha256").update(bytes).digest("hex");

/** The path and query of a URL (inject takes no host). */
export const pathOf = (url: string): string => {
  const parsed = new URL(url);
  return `${parsed.pathname}${parsed.search}`;
};

/** A fixture photo as an upload part. */
export const fixtureFile = (name: string, filename = name): UploadFile => ({
  filename,
  contentType: "image/jpeg",
  bytes: readFileSync(fixturePhoto(name)),
});

/** WxH of every fixture, from the table in SOURCES.md. */
export function fixtureSizes(): Map<string, { width: number; height: number }> {
  const text = readFileSync(path.join(FIXTURE_PHOTOS_DIR, "SOURCES.md"), "utf8");
  const sizes = new Map<string, { width: number; height: number }>();
  for (const match of text.matchAll(/^\| `([^`]+\.jpg)` \|[^|]*\|[^|]*\| (\d+)x(\d+) \|/gm)) {
    sizes.set(match[1]!, { width: Number(match[2]), height: Number(match[3]) });
  }
  return sizes;
}

export function multipart(files: UploadFile[]): { payload: Buffer; contentType: string } {
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
export function pngDeclaring(width: number, height: number): Buffer {
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

/** A JPEG header whose frame declares width×height. */
export function jpegDeclaring(width: number, height: number): Buffer {
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

export async function poolMap<T, R>(
  items: T[],
  concurrency: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
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

export interface PhotoSuite {
  app: InProcessApp;
  probe: StorageProbe;
}

/**
 * The app of the enclosing `describe`, started before its tests (signed URLs point at
 * http://media.propvid.test unless overridden) and closed after them. Read `suite.app` inside tests.
 */
export function photoSuite(configOverrides: Record<string, string> = {}): PhotoSuite {
  const suite = {} as PhotoSuite;
  before(async () => {
    suite.app = await startInProcessApp({ PUBLIC_BASE_URL: "http://media.propvid.test", ...configOverrides });
    suite.probe = storageProbe(suite.app);
  });
  after(async () => {
    await suite.app?.close();
  });
  return suite;
}

export type StorageProbe = ReturnType<typeof storageProbe>;

/** Row counts of the whole database: tests compare them before and after what they do. */
export function storageProbe(app: InProcessApp) {
  const query = async (sql: string, params: unknown[] = []) =>
    (await app.services.dataSource.query(sql, params)) as Record<string, unknown>[];
  const count = async (sql: string, params: unknown[] = []) => Number((await query(sql, params))[0]!["n"]);
  const orphanLargeObjects = () =>
    count(
      `SELECT count(*) AS n FROM pg_largeobject_metadata l
        WHERE NOT EXISTS (SELECT 1 FROM media m WHERE m.lo_oid = l.oid::bigint)`,
    );
  return {
    query,
    count,
    orphanLargeObjects,
    async storage() {
      return {
        media: await count("SELECT count(*) AS n FROM media"),
        largeObjects: await count("SELECT count(*) AS n FROM pg_largeobject_metadata"),
        assets: await count("SELECT count(*) AS n FROM asset"),
      };
    },
    /** No large object without a media row, no photo's media row without a photo, nothing stuck PROCESSING. */
    async assertClean() {
      assert.equal(await orphanLargeObjects(), 0, "large objects without a media row");
      assert.equal(
        await count(
          `SELECT count(*) AS n FROM media m
            WHERE NOT EXISTS (SELECT 1 FROM asset a WHERE a.media_id = m.id OR a.thumbnail_media_id = m.id)`,
        ),
        0,
        "media rows nothing references",
      );
      assert.equal(await count("SELECT count(*) AS n FROM asset WHERE status = 'PROCESSING'"), 0);
    },
  };
}

/** A fresh tenant with an admin key and one campaign, and the calls a photo client makes. */
export async function photoTenant(app: InProcessApp, name: string) {
  const { key, tenantId } = await app.newTenant(name);

  async function createCampaign(campaignName: string, apiKey = key): Promise<string> {
    const created = await app.graphql<{ createCampaign: { id: string } }>(
      apiKey,
      `mutation($n: String!) { createCampaign(input: { name: $n }) { id } }`,
      { n: campaignName },
    );
    assert.equal(created.body.errors, undefined, JSON.stringify(created.body.errors));
    return created.body.data!.createCampaign.id;
  }
  const campaignId = await createCampaign(`${name} house`);

  async function createUpload(
    input: { campaignId: string; filename: string; contentType: string; byteSize: number },
    apiKey = key,
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
    const created = await createUpload({ campaignId: target, filename, contentType, byteSize: bytes.length });
    assert.equal(created.body.errors, undefined, JSON.stringify(created.body.errors));
    const upload = created.body.data!.createAssetUpload;
    const response = await app.app.inject({ method: "PUT", url: pathOf(upload.uploadUrl), payload: bytes });
    return { upload, response };
  }

  async function postMultipart(files: UploadFile[], target = campaignId, apiKey = key) {
    const { payload, contentType } = multipart(files);
    const response = await app.app.inject({
      method: "POST",
      url: `/v1/campaigns/${target}/assets`,
      headers: { "content-type": contentType, "x-api-key": apiKey },
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

  async function getAsset(id: string, apiKey = key): Promise<AssetView> {
    const result = await app.graphql<{ asset: AssetView }>(
      apiKey,
      `query($id: ID!) { asset(id: $id) { ${ASSET_FIELDS} } }`,
      { id },
    );
    assert.equal(result.body.errors, undefined, JSON.stringify(result.body.errors));
    return result.body.data!.asset;
  }

  /** Uploads fixture photos in one multipart request, all READY; returns their assets by file name. */
  async function addPhotos(names: string[], target = campaignId): Promise<Map<string, AssetView>> {
    const response = await postMultipart(
      names.map((photo) => fixtureFile(photo)),
      target,
    );
    assert.equal(response.status, 200, JSON.stringify(response.body));
    const assets = new Map<string, AssetView>();
    for (const result of response.body.results!) {
      assert.equal(result.asset?.status, "READY", result.filename);
      assets.set(result.filename, await getAsset(result.asset!.id));
    }
    return assets;
  }

  async function fetchBytes(url: string) {
    const response = await app.app.inject({ method: "GET", url: pathOf(url) });
    return { status: response.statusCode, headers: response.headers, bytes: response.rawPayload };
  }

  return {
    key,
    tenantId,
    campaignId,
    createCampaign,
    createUpload,
    uploadSigned,
    postMultipart,
    getAsset,
    addPhotos,
    fetchBytes,
  };
}

export type PhotoTenant = Awaited<ReturnType<typeof photoTenant>>;
