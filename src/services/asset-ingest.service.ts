import path from "node:path";
import type { Readable } from "node:stream";
import type { DataSource } from "typeorm";
import type { Config } from "../config.js";
import type { AssetQualityColumns } from "../db/entities/asset.entity.js";
import { AssetEntity } from "../db/entities/index.js";
import { returnedRows } from "../db/sql.js";
import { AppError, isAppError } from "../errors.js";
import type { Logger } from "../logger.js";
import { analyzeImage, type ImageAnalysis } from "../media/image-analysis.js";
import { IMAGE_CONTENT_TYPES, sniffImageFormat } from "../media/image-format.js";
import { hammingDistance } from "../media/image-metrics.js";
import type { MediaStore } from "../media/media.store.js";
import { deleteUnreferencedMedia } from "../media/media-references.js";
import { guessRoomType } from "../media/room-type.js";
import { ROOM_TYPES, type RoomType } from "../providers/types.js";
import type { MediaWorkerPool } from "../workers/media-tasks.js";
import type { CampaignService } from "./campaign.service.js";
import { isUuid } from "./pagination.js";
import type { TokenService } from "./token.service.js";

/** How long a signed upload URL stays valid. */
export const UPLOAD_URL_LIFETIME_SECONDS = 3600;
/** dHash distance at or below which two photos count as the same shot. */
const NEAR_DUPLICATE_DISTANCE = 10;
const FOREIGN_KEY_VIOLATION = "23503";
/** Quality flags that make a photo a worse take of a shot (DUPLICATE itself is not one). */
const PROBLEM_FLAGS: ReadonlySet<string> = new Set([
  "BLURRY",
  "DARK",
  "OVEREXPOSED",
  "LOW_RESOLUTION",
  "DOCUMENT",
]);

export interface IngestHints {
  altText?: string | null;
  tags?: string[];
  sourceUrl?: string | null;
}

/** Cleans a client-supplied file name: no directories, no control characters, bounded length. */
export function sanitizeFilename(name: string): string {
  const printable = Array.from(name.replaceAll("\\", "/"))
    .filter((ch) => ch.codePointAt(0)! >= 0x20 && ch !== "\u007f")
    .join("");
  const base = path.posix.basename(printable).trim();
  return (base || "photo").slice(0, 200);
}

/** Reads a stream into memory, stopping as soon as it passes `maxBytes` (bounded memory). */
export async function readCapped(source: Readable, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  // Stopping early leaves the source paused, not destroyed: destroying an HTTP request kills its
  // socket, and the client would get a reset instead of our 413 (the route closes the connection).
  for await (const chunk of source.iterator({ destroyOnReturn: false })) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    total += buffer.length;
    if (total > maxBytes) {
      throw new AppError("PAYLOAD_TOO_LARGE", `The body is larger than ${maxBytes} bytes`, {
        details: { maxBytes },
      });
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks, total);
}

/**
 * Getting photos in: signed uploads, multipart uploads and imports all end in `ingest`, which
 * decides the format by magic bytes, analyses the image, stores original and thumbnail (deduped
 * by SHA-256) and marks the asset READY, or REJECTED with a reason.
 */
export class AssetIngestService {
  constructor(
    private readonly deps: {
      dataSource: DataSource;
      config: Config;
      logger: Logger;
      media: MediaStore;
      tokens: TokenService;
      campaigns: CampaignService;
      /** Runs image analysis's pixel math off the API's thread. */
      workers: MediaWorkerPool;
    },
  ) {}

  private get repository() {
    return this.deps.dataSource.getRepository(AssetEntity);
  }

  async createUpload(
    tenantId: string,
    input: { campaignId: string; filename: string; contentType: string; byteSize: number },
  ): Promise<{ asset: AssetEntity; uploadUrl: string; expiresAt: Date }> {
    await this.deps.campaigns.require(tenantId, input.campaignId);
    const max = this.deps.config.maxUploadBytes;
    if (!Number.isSafeInteger(input.byteSize) || input.byteSize <= 0) {
      throw new AppError("BAD_USER_INPUT", "byteSize must be a positive integer");
    }
    if (input.byteSize > max) {
      throw new AppError("PAYLOAD_TOO_LARGE", `Photos may be at most ${max} bytes`, {
        details: { maxBytes: max },
      });
    }
    if (!/^image\//i.test(input.contentType)) {
      throw new AppError(
        "UNSUPPORTED_MEDIA_TYPE",
        "Only images can be uploaded (JPEG, PNG, WebP, AVIF, HEIC)",
      );
    }
    const expiresAt = new Date(Date.now() + UPLOAD_URL_LIFETIME_SECONDS * 1000);
    const asset = await this.repository.save(
      this.repository.create({
        tenantId,
        campaignId: input.campaignId,
        filename: sanitizeFilename(input.filename),
        byteSize: String(input.byteSize),
        status: "PENDING_UPLOAD",
        uploadExpiresAt: expiresAt,
        tags: [],
      }),
    );
    const { token } = this.deps.tokens.sign(
      { id: asset.id, purpose: "upload", tenantId, extra: `cap=${input.byteSize}` },
      UPLOAD_URL_LIFETIME_SECONDS,
    );
    return {
      asset,
      uploadUrl: `${this.deps.config.publicBaseUrl}/v1/uploads/${asset.id}?token=${token}`,
      expiresAt,
    };
  }

  /**
   * `PUT` to a signed upload URL. The URL is single-use: the asset moves from PENDING_UPLOAD
   * to PROCESSING atomically; a failed or aborted transfer moves it back so the client can retry.
   * Returns null for a bad token or unknown asset (the route answers 403 with no body).
   */
  async acceptUpload(
    assetId: string,
    token: string | undefined,
    body: Readable,
    declaredBytes?: number,
  ): Promise<AssetEntity | null> {
    if (!isUuid(assetId)) return null;
    const asset = await this.repository.findOne({ where: { id: assetId } });
    if (!asset) return null;
    const cap = Number(asset.byteSize ?? 0);
    if (
      !this.deps.tokens.verify(token, {
        id: asset.id,
        purpose: "upload",
        tenantId: asset.tenantId,
        extra: `cap=${cap}`,
      })
    ) {
      return null;
    }
    // A Content-Length over this URL's cap is refused before a byte of the body is read.
    if (declaredBytes !== undefined && declaredBytes > cap) {
      throw new AppError("PAYLOAD_TOO_LARGE", `This upload URL accepts at most ${cap} bytes`, {
        details: { maxBytes: cap },
      });
    }
    const claimed = returnedRows(
      await this.deps.dataSource.query(
        `UPDATE asset SET status = 'PROCESSING', updated_at = now()
          WHERE id = $1 AND status = 'PENDING_UPLOAD' AND upload_expires_at > now() RETURNING id`,
        [asset.id],
      ),
    );
    if (claimed.length === 0) {
      throw new AppError("CONFLICT", "This upload URL has been used or has expired");
    }
    let bytes: Buffer;
    try {
      bytes = await readCapped(body, Math.min(cap, this.deps.config.maxUploadBytes));
    } catch (error) {
      await this.repository.update({ id: asset.id, status: "PROCESSING" }, { status: "PENDING_UPLOAD" });
      throw error;
    }
    return await this.ingest(asset, bytes, {});
  }

  /** Creates an asset for bytes already in hand (multipart upload, URL import) and ingests them. */
  async ingestNew(
    tenantId: string,
    campaignId: string,
    filename: string,
    bytes: Buffer,
    hints: IngestHints = {},
  ): Promise<AssetEntity> {
    // Refuse non-images before creating any row.
    if (!sniffImageFormat(bytes.subarray(0, 64 * 1024))) {
      throw new AppError("UNSUPPORTED_MEDIA_TYPE", "Not a supported image (JPEG, PNG, WebP, AVIF, HEIC)");
    }
    const asset = await this.repository.save(
      this.repository.create({
        tenantId,
        campaignId,
        filename: sanitizeFilename(filename),
        byteSize: String(bytes.length),
        status: "PROCESSING",
        tags: hints.tags ?? [],
        altText: hints.altText ?? null,
        sourceUrl: hints.sourceUrl ?? null,
      }),
    );
    return await this.ingest(asset, bytes, hints);
  }

  /** Analyses and stores the bytes of a PROCESSING asset; ends READY or REJECTED. */
  private async ingest(asset: AssetEntity, bytes: Buffer, hints: IngestHints): Promise<AssetEntity> {
    const format = sniffImageFormat(bytes.subarray(0, 64 * 1024));
    if (!format) {
      await this.reject(asset, "Not a supported image (JPEG, PNG, WebP, AVIF, HEIC)");
      throw new AppError("UNSUPPORTED_MEDIA_TYPE", "Not a supported image (JPEG, PNG, WebP, AVIF, HEIC)", {
        details: { assetId: asset.id },
      });
    }
    let analysis: ImageAnalysis;
    try {
      analysis = await analyzeImage(bytes, {
        maxPixels: this.deps.config.maxImagePixels,
        workers: this.deps.workers,
      });
    } catch (error) {
      if (isAppError(error) && (error.code === "MEDIA_REJECTED" || error.code === "UNSUPPORTED_MEDIA_TYPE")) {
        return await this.reject(asset, error.message);
      }
      await this.reject(asset, "The image could not be analysed");
      throw error;
    }
    try {
      // Twice at most: a media row we deduplicated against can lose its last asset (and be
      // deleted) before this asset points at it; the second attempt stores the bytes afresh.
      for (let attempt = 1; ; attempt++) {
        try {
          await this.storeAndMarkReady(asset, bytes, hints, analysis);
          break;
        } catch (error) {
          if (attempt >= 2 || (error as { code?: string }).code !== FOREIGN_KEY_VIOLATION) throw error;
        }
      }
    } catch (error) {
      // Never leave the asset PROCESSING: the failure is recorded with a reason.
      if (!isAppError(error)) {
        await this.reject(asset, "The photo could not be stored; upload it again").catch(() => undefined);
      }
      throw error;
    }
    return await this.repository.findOneOrFail({ where: { id: asset.id } });
  }

  private async storeAndMarkReady(
    asset: AssetEntity,
    bytes: Buffer,
    hints: IngestHints,
    analysis: ImageAnalysis,
  ): Promise<void> {
    const contentType = IMAGE_CONTENT_TYPES[analysis.format];
    const tags = [...new Set([...(asset.tags ?? []), ...(hints.tags ?? [])])].slice(0, 50);
    const guess = guessRoomType({ filename: asset.filename, tags, altText: hints.altText ?? asset.altText });
    const stored = await this.storeMedia(asset.tenantId, bytes, analysis.thumbnail, contentType);
    const duplicateOf = await this.findDuplicate(asset, stored.original, analysis.dhash, analysis.flags);
    const flags = duplicateOf ? [...analysis.flags, "DUPLICATE"] : analysis.flags;
    const quality: AssetQualityColumns = {
      sharpness: round(analysis.sharpness),
      exposure: round(analysis.exposure),
      colourfulness: round(analysis.colourfulness),
      flags,
      directionalSharpness: round(analysis.directionalSharpness),
      blurIsotropy: round(analysis.blurIsotropy),
      shadowClip: round(analysis.shadowClip),
      highlightClip: round(analysis.highlightClip),
      meanColour: analysis.meanColour.map(round),
      colourHistogram: analysis.colourHistogram.map(round),
      greyVector: analysis.greyVector.map(round),
    };
    const result = await this.repository.update(
      { id: asset.id, status: "PROCESSING" },
      {
        status: "READY",
        rejectionReason: null,
        mediaId: stored.original,
        thumbnailMediaId: stored.thumbnail,
        contentType,
        byteSize: String(bytes.length),
        width: analysis.width,
        height: analysis.height,
        format: analysis.format,
        roomTypeGuess: guess.roomType,
        tags,
        altText: hints.altText ?? asset.altText,
        sourceUrl: hints.sourceUrl ?? asset.sourceUrl,
        quality: quality as never,
        dhash: analysis.dhash,
        duplicateOfAssetId: duplicateOf,
        uploadExpiresAt: null,
      },
    );
    if (!result.affected) {
      // Deleted while we worked: the media just stored may be referenced by nothing now.
      await deleteUnreferencedMedia(this.deps.dataSource.manager, [stored.original, stored.thumbnail]);
      throw new AppError("NOT_FOUND", "Asset not found");
    }
    this.deps.logger.info(
      { assetId: asset.id, tenantId: asset.tenantId, roomType: guess.roomType, flags },
      "asset ready",
    );
  }

  /** Stores the original and the thumbnail (each deduplicated by SHA-256); returns their media ids. */
  private async storeMedia(
    tenantId: string,
    bytes: Buffer,
    thumbnail: Buffer,
    contentType: string,
  ): Promise<{ original: string; thumbnail: string }> {
    const maxBytes = this.deps.config.maxUploadBytes;
    const original = await this.deps.media.store(tenantId, bytes, { contentType, maxBytes });
    const small = await this.deps.media.store(tenantId, thumbnail, { contentType: "image/jpeg", maxBytes });
    return { original: original.media.id, thumbnail: small.media.id };
  }

  /**
   * The earliest READY photo of the same campaign with the same bytes or nearly the same picture,
   * unless that photo has a problem this one does not (a blurry or dark take of the same shot
   * must not make the good take a duplicate: the selector would then have neither).
   */
  private async findDuplicate(
    asset: AssetEntity,
    mediaId: string,
    dhash: string,
    flags: readonly string[],
  ): Promise<string | null> {
    const others: { id: string; media_id: string; dhash: string | null; flags: string[] | null }[] =
      await this.deps.dataSource.query(
        `SELECT id, media_id, dhash, quality->'flags' AS flags FROM asset
          WHERE campaign_id = $1 AND id <> $2 AND status = 'READY' AND duplicate_of_asset_id IS NULL
          ORDER BY created_at, id`,
        [asset.campaignId, asset.id],
      );
    const worse = (otherFlags: string[] | null) =>
      (otherFlags ?? []).some((flag) => PROBLEM_FLAGS.has(flag) && !flags.includes(flag));
    const match = others.find(
      (other) =>
        !worse(other.flags) &&
        (other.media_id === mediaId ||
          (other.dhash !== null && hammingDistance(other.dhash, dhash) <= NEAR_DUPLICATE_DISTANCE)),
    );
    return match?.id ?? null;
  }

  private async reject(asset: AssetEntity, reason: string): Promise<AssetEntity> {
    await this.repository.update(
      { id: asset.id },
      { status: "REJECTED", rejectionReason: reason, uploadExpiresAt: null },
    );
    this.deps.logger.info({ assetId: asset.id, reason }, "asset rejected");
    return await this.repository.findOneOrFail({ where: { id: asset.id } });
  }

  async update(
    tenantId: string,
    id: string,
    input: { roomType?: string | null; tags?: string[] | null },
  ): Promise<AssetEntity> {
    const asset = isUuid(id) ? await this.repository.findOne({ where: { tenantId, id } }) : null;
    if (!asset) throw new AppError("NOT_FOUND", "Asset not found");
    const changes: Partial<AssetEntity> = {};
    if (input.roomType !== undefined) {
      if (input.roomType !== null && !ROOM_TYPES.includes(input.roomType as RoomType)) {
        throw new AppError("BAD_USER_INPUT", "Unknown room type");
      }
      changes.roomType = input.roomType;
    }
    if (input.tags !== undefined && input.tags !== null) {
      const tags = [...new Set(input.tags.map((tag) => tag.trim()).filter(Boolean))];
      if (tags.length > 50 || tags.some((tag) => tag.length > 100)) {
        throw new AppError("BAD_USER_INPUT", "At most 50 tags of at most 100 characters");
      }
      changes.tags = tags;
      changes.roomTypeGuess = guessRoomType({
        filename: asset.filename,
        tags,
        altText: asset.altText,
      }).roomType;
    }
    if (Object.keys(changes).length > 0) await this.repository.update({ id }, changes as never);
    return await this.repository.findOneOrFail({ where: { id } });
  }

  /** Deletes the asset; its original and thumbnail go too when nothing else references them. */
  async delete(tenantId: string, id: string): Promise<boolean> {
    if (!isUuid(id)) throw new AppError("NOT_FOUND", "Asset not found");
    return await this.deps.dataSource.transaction(async (manager) => {
      const asset = await manager
        .getRepository(AssetEntity)
        .findOne({ where: { tenantId, id }, lock: { mode: "pessimistic_write" } });
      if (!asset) throw new AppError("NOT_FOUND", "Asset not found");
      await manager.getRepository(AssetEntity).delete({ id });
      // Copies of this photo pointed at it: the oldest copy becomes the original, the rest follow it.
      await manager.query(
        `WITH copies AS (
           SELECT id, first_value(id) OVER w AS heir, row_number() OVER w AS position
             FROM asset WHERE duplicate_of_asset_id = $1 WINDOW w AS (ORDER BY created_at, id))
         UPDATE asset a
            SET duplicate_of_asset_id = CASE WHEN c.position = 1 THEN NULL ELSE c.heir END,
                quality = CASE WHEN c.position = 1 AND a.quality IS NOT NULL
                               THEN jsonb_set(a.quality, '{flags}', COALESCE(a.quality->'flags', '[]') - 'DUPLICATE')
                               ELSE a.quality END
           FROM copies c WHERE a.id = c.id`,
        [id],
      );
      await deleteUnreferencedMedia(
        manager,
        [asset.mediaId, asset.thumbnailMediaId].filter((mediaId): mediaId is string => mediaId !== null),
      );
      return true;
    });
  }

  /**
   * Removes pending uploads whose URL expired long ago (they hold no media), and records as
   * REJECTED the photos whose processing was cut short (a crash mid-ingest), so that none stays
   * PROCESSING for ever. Returns how many rows it touched.
   */
  async sweepExpiredUploads(): Promise<number> {
    const deleted = returnedRows(
      await this.deps.dataSource.query(
        `DELETE FROM asset WHERE status = 'PENDING_UPLOAD' AND upload_expires_at < now() - interval '1 hour' RETURNING id`,
      ),
    );
    const interrupted = returnedRows(
      await this.deps.dataSource.query(
        `UPDATE asset SET status = 'REJECTED', rejection_reason = $1, upload_expires_at = NULL, updated_at = now()
          WHERE status = 'PROCESSING' AND updated_at < now() - interval '1 hour' RETURNING id`,
        ["Processing was interrupted; upload the photo again"],
      ),
    );
    return deleted.length + interrupted.length;
  }
}

const round = (value: number): number => Math.round(value * 10_000) / 10_000;
