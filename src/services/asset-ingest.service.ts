import path from "node:path";
import sharp from "sharp";
import type { DataSource, Repository } from "typeorm";
import type { Config } from "../config.js";
import type { AssetQualityColumns } from "../db/entities/asset.entity.js";
import { AssetEntity } from "../db/entities/index.js";
import { AppError, isAppError } from "../errors.js";
import type { Logger } from "../logger.js";
import { analyzeImage, type ImageAnalysis } from "../media/image-analysis.js";
import { IMAGE_CONTENT_TYPES, sniffImageFormat } from "../media/image-format.js";
import type { MediaStore } from "../media/media.store.js";
import { deleteUnreferencedMedia } from "../media/media-references.js";
import { guessRoomType } from "../media/room-type.js";
import { rasteriseBrandImage, sniffBrandImage } from "../render/brand-image.js";
import { sanitiseSvg } from "../render/svg-sanitiser.js";
import type { MediaWorkerPool } from "../workers/media-tasks.js";
import { findDuplicateAsset } from "./asset-duplicates.js";

const FOREIGN_KEY_VIOLATION = "23503";

/** The columns an UPDATE of an asset may set. */
type AssetUpdate = Parameters<Repository<AssetEntity>["update"]>[1];
const NOT_AN_IMAGE = "Not a supported image (JPEG, PNG, WebP, AVIF, HEIC)";

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

/**
 * Bytes in hand → an analysed asset row. Signed uploads, multipart uploads and imports all end
 * here: the format is decided by magic bytes, the image analysed, original and thumbnail stored
 * (deduplicated by SHA-256), near-duplicates flagged, and the asset marked READY, or REJECTED
 * with a reason.
 */
export class AssetIngestService {
  constructor(
    private readonly deps: {
      dataSource: DataSource;
      config: Config;
      logger: Logger;
      media: MediaStore;
      /** Runs image analysis's pixel math off the API's thread. */
      workers: MediaWorkerPool;
    },
  ) {}

  private get repository() {
    return this.deps.dataSource.getRepository(AssetEntity);
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
    if (!sniffImageFormat(bytes.subarray(0, 64 * 1024)))
      throw new AppError("UNSUPPORTED_MEDIA_TYPE", NOT_AN_IMAGE);
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
    return await this.ingestClaimed(asset, bytes, hints);
  }

  /** Analyses and stores the bytes of an asset already PROCESSING (claimed); ends READY or REJECTED. */
  async ingestClaimed(asset: AssetEntity, bytes: Buffer, hints: IngestHints = {}): Promise<AssetEntity> {
    if (asset.purpose !== "PHOTO") return await this.ingestBrandImage(asset, bytes);
    const format = sniffImageFormat(bytes.subarray(0, 64 * 1024));
    if (!format) {
      await this.reject(asset, NOT_AN_IMAGE);
      throw new AppError("UNSUPPORTED_MEDIA_TYPE", NOT_AN_IMAGE, { details: { assetId: asset.id } });
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

  /**
   * A logo or an agent's photo: not analysed nor offered to scene selection; checked by
   * rasterising it the way the outro will (an SVG sanitised first), and a hostile or unreadable
   * file REJECTED with the reason. An SVG is stored as its sanitised rewrite, never as uploaded.
   */
  private async ingestBrandImage(asset: AssetEntity, bytes: Buffer): Promise<AssetEntity> {
    let stored: Buffer;
    let contentType: string;
    let size: { width: number; height: number } | null = null;
    let thumbnail: Buffer;
    try {
      const kind = sniffBrandImage(bytes);
      if (kind === "svg" && asset.purpose !== "LOGO")
        throw new AppError("UNSUPPORTED_MEDIA_TYPE", "An agent photo must be PNG, JPEG or WebP");
      thumbnail = await rasteriseBrandImage(bytes, { width: 256, height: 256, fit: "contain" });
      if (kind === "svg") {
        stored = Buffer.from(sanitiseSvg(bytes).toSvg());
        contentType = "image/svg+xml";
      } else {
        stored = bytes;
        contentType = IMAGE_CONTENT_TYPES[kind];
        const metadata = await sharp(bytes).metadata();
        size = metadata.width && metadata.height ? { width: metadata.width, height: metadata.height } : null;
      }
    } catch (error) {
      if (isAppError(error)) return await this.reject(asset, error.message);
      throw error;
    }
    const media = await this.storeMedia(asset.tenantId, stored, thumbnail, contentType, "image/png");
    await this.markReady(asset, media, {
      contentType,
      byteSize: String(stored.length),
      width: size?.width ?? null,
      height: size?.height ?? null,
    });
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
    const duplicateOf = await findDuplicateAsset(this.deps.dataSource.manager, {
      assetId: asset.id,
      campaignId: asset.campaignId,
      mediaId: stored.original,
      dhash: analysis.dhash,
      flags: analysis.flags,
    });
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
    await this.markReady(asset, stored, {
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
    });
    this.deps.logger.info(
      { assetId: asset.id, tenantId: asset.tenantId, roomType: guess.roomType, flags },
      "asset ready",
    );
  }

  /** PROCESSING → READY with its stored media and what ingest learnt. */
  private async markReady(
    asset: AssetEntity,
    stored: { original: string; thumbnail: string },
    columns: AssetUpdate,
  ): Promise<void> {
    const result = await this.repository.update(
      { id: asset.id, status: "PROCESSING" },
      {
        ...columns,
        status: "READY",
        rejectionReason: null,
        mediaId: stored.original,
        thumbnailMediaId: stored.thumbnail,
        uploadExpiresAt: null,
      },
    );
    if (!result.affected) {
      // Deleted while we worked: the media just stored may be referenced by nothing now.
      await deleteUnreferencedMedia(this.deps.dataSource.manager, [stored.original, stored.thumbnail]);
      throw new AppError("NOT_FOUND", "Asset not found");
    }
  }

  /** Stores the original and the thumbnail (each deduplicated by SHA-256); returns their media ids. */
  private async storeMedia(
    tenantId: string,
    bytes: Buffer,
    thumbnail: Buffer,
    contentType: string,
    thumbnailType = "image/jpeg",
  ): Promise<{ original: string; thumbnail: string }> {
    const maxBytes = this.deps.config.maxUploadBytes;
    const original = await this.deps.media.store(tenantId, bytes, { contentType, maxBytes });
    const small = await this.deps.media.store(tenantId, thumbnail, { contentType: thumbnailType, maxBytes });
    return { original: original.media.id, thumbnail: small.media.id };
  }

  private async reject(asset: AssetEntity, reason: string): Promise<AssetEntity> {
    await this.repository.update(
      { id: asset.id },
      { status: "REJECTED", rejectionReason: reason, uploadExpiresAt: null },
    );
    this.deps.logger.info({ assetId: asset.id, reason }, "asset rejected");
    return await this.repository.findOneOrFail({ where: { id: asset.id } });
  }
}

const round = (value: number): number => Math.round(value * 10_000) / 10_000;
