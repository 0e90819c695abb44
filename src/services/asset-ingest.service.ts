import path from "node:path";
import { Readable } from "node:stream";
import type { DataSource, Repository, UpdateResult } from "typeorm";
import type { Config } from "../config.js";
import type { AssetQualityColumns } from "../db/entities/asset.entity.js";
import { AssetEntity } from "../db/entities/index.js";
import { AppError, isAppError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { PhotoAnalyser } from "../media/analysis-process.js";
import { withTempDir } from "../media/ffmpeg.runner.js";
import type { ImageAnalysis } from "../media/image-analysis.js";
import { IMAGE_CONTENT_TYPES, type ImageFormat, sniffImageFormat } from "../media/image-format.js";
import { nextChunk, payloadTooLarge } from "../media/large-object.store.js";
import type { MediaRow, MediaStore } from "../media/media.store.js";
import { deleteUnreferencedMedia } from "../media/media-references.js";
import { guessRoomType } from "../media/room-type.js";
import sharp from "../media/sharp.js";
import { rasteriseBrandImage, sniffBrandImage } from "../render/brand-image.js";
import { sanitiseSvg } from "../render/svg-sanitiser.js";
import type { WebhookOutbox } from "../webhooks/webhook-outbox.js";
import { findDuplicateAsset } from "./asset-duplicates.js";

const FOREIGN_KEY_VIOLATION = "23503";
const NOT_AN_IMAGE = "Not a supported image (JPEG, PNG, WebP, AVIF, HEIC)";
/**
 * GIF is refused, as the README says: listing photos are never GIFs (256 colours, and an
 * animation would be judged by its first frame); on listing pages GIFs are spacers and badges.
 */
const PHOTO_FORMATS: ReadonlySet<ImageFormat> = new Set(["jpeg", "png", "webp", "avif", "heif"]);
/** Enough of the start of a file to tell its format (ISO-BMFF brands sit in the first 4 kB). */
const SNIFF_BYTES = 4096;
/**
 * Bytes per lo_put for uploads, a sixteenth of the default: each upload holds two such buffers,
 * and pg copies each chunk into the messages it sends, so this sets most of an upload's memory.
 */
const UPLOAD_CHUNK_BYTES = 64 * 1024;
/**
 * Photos decoded at once. Decoding is CPU work (libvips uses every core for one image), so more
 * at once only adds memory; uploads beyond this wait with their bytes already stored.
 */
const ANALYSES_AT_ONCE = 1;

export interface IngestHints {
  altText?: string | null;
  tags?: string[];
  sourceUrl?: string | null;
}

/** How a photo's bytes may arrive: at most `maxBytes`, never silent for `idleTimeoutMs`. */
export interface ReceiveLimits {
  maxBytes: number;
  idleTimeoutMs?: number;
  signal?: AbortSignal;
}

/** A photo's bytes, stored (deduplicated) and known by their magic bytes to be a photo format. */
export interface ReceivedPhoto {
  media: MediaRow;
  format: ImageFormat;
}

export type PhotoSource = Readable | AsyncIterable<Buffer> | Buffer;

/** Cleans a client-supplied file name: no directories, no control characters, bounded length. */
export function sanitizeFilename(name: string): string {
  const printable = Array.from(name.replaceAll("\\", "/"))
    .filter((ch) => ch.codePointAt(0)! >= 0x20 && ch !== "\u007f")
    .join("");
  const base = path.posix.basename(printable).trim();
  return (base || "photo").slice(0, 200);
}

/** Waits its turn: at most `size` holders at once, the rest in arrival order. */
class Turns {
  #free: number;
  readonly #waiting: (() => void)[] = [];
  constructor(size: number) {
    this.#free = size;
  }
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await fn();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free++;
    }
  }
}

/**
 * Photo bytes → an analysed asset row. Signed uploads, multipart uploads and imports all end
 * here, in two steps. `receive` streams the bytes into storage as they arrive — the format
 * decided by the first bytes (anything else is refused before a byte is stored), SHA-256 and
 * size computed on the way, the cap and the idle timeout enforced — so an upload never sits in
 * memory whole. Then the photo is decoded from a temp copy of the stored bytes (a few at a time),
 * the thumbnail stored, near-duplicates flagged, and the asset marked READY, or REJECTED with a
 * reason.
 */
export class AssetIngestService {
  readonly #analyses = new Turns(ANALYSES_AT_ONCE);

  constructor(
    private readonly deps: {
      dataSource: DataSource;
      config: Config;
      logger: Logger;
      media: MediaStore;
      /** Decodes and measures photos: in a process of their own when this one serves HTTP. */
      analyser: PhotoAnalyser;
      /** ASSET_READY / ASSET_REJECTED partner webhooks, written with the status change. */
      outbox: Pick<WebhookOutbox, "assetsSettled">;
    },
  ) {}

  private get repository() {
    return this.deps.dataSource.getRepository(AssetEntity);
  }

  /**
   * Streams a photo into storage. Throws UNSUPPORTED_MEDIA_TYPE from its first bytes when it is
   * not a photo, PAYLOAD_TOO_LARGE past `maxBytes`, REQUEST_TIMEOUT when it stalls, or the
   * source's own error; nothing is stored then. A Readable source is left unconsumed after a
   * refusal (the caller decides whether to drain it or close the connection).
   */
  async receive(tenantId: string, source: PhotoSource, limits: ReceiveLimits): Promise<ReceivedPhoto> {
    const input = Buffer.isBuffer(source) ? Readable.from([source]) : source;
    const iterator: AsyncIterator<unknown> =
      input instanceof Readable ? input.iterator({ destroyOnReturn: false }) : input[Symbol.asyncIterator]();
    let head: Awaited<ReturnType<typeof readHead>>;
    let format: ImageFormat | null;
    try {
      head = await readHead(iterator, limits);
      format = sniffImageFormat(head.bytes);
      if (!format || !PHOTO_FORMATS.has(format)) {
        const message = format === "gif" ? `GIF is not accepted. ${NOT_AN_IMAGE}` : NOT_AN_IMAGE;
        throw new AppError("UNSUPPORTED_MEDIA_TYPE", message);
      }
    } catch (error) {
      // Let go of the source (a Readable stays alive for the caller to drain or close).
      iterator.return?.()?.catch(() => {});
      throw error;
    }
    // The head already read, then the rest of the source.
    const rest: AsyncIterable<unknown> = {
      [Symbol.asyncIterator]: () => ({
        next: async () => {
          const chunk = head.chunks.shift();
          if (chunk) return { done: false, value: chunk };
          if (head.done) return { done: true, value: undefined };
          return await iterator.next();
        },
        return: async () => (await iterator.return?.()) ?? { done: true, value: undefined },
      }),
    };
    const { media } = await this.deps.media.store(tenantId, rest as AsyncIterable<Buffer>, {
      contentType: IMAGE_CONTENT_TYPES[format!],
      maxBytes: limits.maxBytes,
      idleTimeoutMs: limits.idleTimeoutMs,
      signal: limits.signal,
      chunkSize: UPLOAD_CHUNK_BYTES,
    });
    return { media, format };
  }

  /** Creates an asset for a photo from a source of its own (multipart part, URL import) and ingests it. */
  async ingestNew(
    tenantId: string,
    campaignId: string,
    filename: string,
    source: PhotoSource,
    hints: IngestHints = {},
    limits: ReceiveLimits = { maxBytes: this.deps.config.maxUploadBytes },
  ): Promise<AssetEntity> {
    // Non-photos and oversized bodies are refused before any row exists.
    const received = await this.receive(tenantId, source, limits);
    let asset: AssetEntity;
    try {
      asset = await this.repository.save(
        this.repository.create({
          tenantId,
          campaignId,
          mediaId: received.media.id,
          filename: sanitizeFilename(filename),
          byteSize: String(received.media.byteSize),
          status: "PROCESSING",
          tags: hints.tags ?? [],
          altText: hints.altText ?? null,
          sourceUrl: hints.sourceUrl ?? null,
        }),
      );
    } catch (error) {
      await deleteUnreferencedMedia(this.deps.dataSource.manager, [received.media.id]).catch(() => 0);
      throw error;
    }
    return await this.analyse(asset, received, hints);
  }

  /**
   * Ingests the stored bytes of an asset that is PROCESSING (claimed): links them to it at once
   * (so no other deletion can take them), analyses them, and ends READY or REJECTED.
   */
  async ingestReceived(
    asset: AssetEntity,
    received: ReceivedPhoto,
    hints: IngestHints = {},
  ): Promise<AssetEntity> {
    try {
      await this.repository.update(
        { id: asset.id, status: "PROCESSING" },
        { mediaId: received.media.id, byteSize: String(received.media.byteSize) },
      );
    } catch (error) {
      // The media row we deduplicated against was deleted before we could point at it.
      if ((error as { code?: string }).code !== FOREIGN_KEY_VIOLATION) throw error;
      return await this.reject(asset, "The photo could not be stored; upload it again");
    }
    return await this.analyse(asset, received, hints);
  }

  /** Decodes the stored photo and records the outcome; never leaves the asset PROCESSING. */
  private async analyse(
    asset: AssetEntity,
    received: ReceivedPhoto,
    hints: IngestHints,
  ): Promise<AssetEntity> {
    let analysis: ImageAnalysis;
    try {
      analysis = await this.#analyses.run(() =>
        withTempDir("propvid-ingest", async (dir) => {
          const file = path.join(dir, "photo");
          await this.deps.media.toFile(received.media, file);
          return await this.deps.analyser.analyse(file, { maxPixels: this.deps.config.maxImagePixels });
        }),
      );
    } catch (error) {
      if (isAppError(error) && (error.code === "MEDIA_REJECTED" || error.code === "UNSUPPORTED_MEDIA_TYPE")) {
        return await this.reject(asset, error.message);
      }
      await this.reject(asset, "The image could not be analysed").catch(() => undefined);
      throw error;
    }
    try {
      await this.storeAndMarkReady(asset, received, hints, analysis);
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
   * A logo or an agent's photo (small, read whole by the caller): not analysed nor offered to scene
   * selection; checked by rasterising it the way the outro will (an SVG sanitised first), and a
   * hostile or unreadable file REJECTED with the reason. An SVG is stored as its sanitised
   * rewrite, never as uploaded.
   */
  async ingestBrandImage(asset: AssetEntity, bytes: Buffer): Promise<AssetEntity> {
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
    const maxBytes = this.deps.config.maxUploadBytes;
    const original = await this.deps.media.store(asset.tenantId, stored, { contentType, maxBytes });
    const small = await this.deps.media.store(asset.tenantId, thumbnail, {
      contentType: "image/png",
      maxBytes,
    });
    const result = await this.settle(
      asset.id,
      { status: "PROCESSING" },
      {
        status: "READY",
        rejectionReason: null,
        mediaId: original.media.id,
        thumbnailMediaId: small.media.id,
        contentType,
        byteSize: String(stored.length),
        width: size?.width ?? null,
        height: size?.height ?? null,
        uploadExpiresAt: null,
      },
    );
    if (!result.affected) {
      await deleteUnreferencedMedia(this.deps.dataSource.manager, [original.media.id, small.media.id]);
      throw new AppError("NOT_FOUND", "Asset not found");
    }
    return await this.repository.findOneOrFail({ where: { id: asset.id } });
  }

  private async storeAndMarkReady(
    asset: AssetEntity,
    received: ReceivedPhoto,
    hints: IngestHints,
    analysis: ImageAnalysis,
  ): Promise<void> {
    const contentType = IMAGE_CONTENT_TYPES[analysis.format];
    const tags = [...new Set([...(asset.tags ?? []), ...(hints.tags ?? [])])].slice(0, 50);
    const guess = guessRoomType({ filename: asset.filename, tags, altText: hints.altText ?? asset.altText });
    const thumbnail = await this.deps.media.store(asset.tenantId, analysis.thumbnail, {
      contentType: "image/jpeg",
      maxBytes: this.deps.config.maxUploadBytes,
    });
    const duplicateOf = await findDuplicateAsset(this.deps.dataSource.manager, {
      assetId: asset.id,
      campaignId: asset.campaignId,
      mediaId: received.media.id,
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
    const result = await this.settle(
      asset.id,
      { status: "PROCESSING" },
      {
        status: "READY",
        rejectionReason: null,
        mediaId: received.media.id,
        thumbnailMediaId: thumbnail.media.id,
        contentType,
        byteSize: String(received.media.byteSize),
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
      await deleteUnreferencedMedia(this.deps.dataSource.manager, [received.media.id, thumbnail.media.id]);
      throw new AppError("NOT_FOUND", "Asset not found");
    }
    this.deps.logger.info(
      { assetId: asset.id, tenantId: asset.tenantId, roomType: guess.roomType, flags },
      "asset ready",
    );
  }

  /** Records the asset as REJECTED with a reason, and lets go of bytes nothing else needs. */
  async reject(asset: AssetEntity, reason: string): Promise<AssetEntity> {
    const before = await this.repository.findOne({ where: { id: asset.id } });
    await this.settle(
      asset.id,
      {},
      { status: "REJECTED", rejectionReason: reason, uploadExpiresAt: null, mediaId: null },
    );
    if (before?.mediaId) await deleteUnreferencedMedia(this.deps.dataSource.manager, [before.mediaId]);
    this.deps.logger.info({ assetId: asset.id, reason }, "asset rejected");
    return await this.repository.findOneOrFail({ where: { id: asset.id } });
  }

  /** The asset's final update and its partner webhook, in one transaction (an outbox). */
  private async settle(
    id: string,
    where: Partial<Pick<AssetEntity, "status">>,
    changes: Parameters<Repository<AssetEntity>["update"]>[1],
  ): Promise<UpdateResult> {
    return await this.deps.dataSource.transaction(async (manager) => {
      const result = await manager.getRepository(AssetEntity).update({ id, ...where }, changes);
      if (result.affected) await this.deps.outbox.assetsSettled(manager, [id]);
      return result;
    });
  }
}

/**
 * Reads from `iterator` until at least SNIFF_BYTES arrived or the source ended, under the same
 * idle timeout as the rest of the body. What was read is handed on with the rest.
 */
async function readHead(
  iterator: AsyncIterator<unknown>,
  limits: ReceiveLimits,
): Promise<{ bytes: Buffer; chunks: Buffer[]; done: boolean }> {
  const chunks: Buffer[] = [];
  let length = 0;
  while (length < SNIFF_BYTES) {
    const result = await nextChunk(iterator, limits.signal, limits.idleTimeoutMs);
    if (result.done) return { bytes: Buffer.concat(chunks), chunks, done: true };
    const chunk = Buffer.isBuffer(result.value) ? result.value : Buffer.from(result.value as Uint8Array);
    chunks.push(chunk);
    length += chunk.length;
    if (length > limits.maxBytes) throw payloadTooLarge(limits.maxBytes);
  }
  return { bytes: Buffer.concat(chunks).subarray(0, SNIFF_BYTES), chunks, done: false };
}

const round = (value: number): number => Math.round(value * 10_000) / 10_000;
