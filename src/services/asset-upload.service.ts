import type { Readable } from "node:stream";
import type { DataSource } from "typeorm";
import type { Config } from "../config.js";
import type { AssetPurpose } from "../db/entities/asset.entity.js";
import { AssetEntity } from "../db/entities/index.js";
import { returnedRows } from "../db/sql.js";
import { isUuid } from "../domain/ids.js";
import { AppError, isAppError } from "../errors.js";
import { nextChunk, payloadTooLarge } from "../media/large-object.store.js";
import { type AssetIngestService, type ReceivedPhoto, sanitizeFilename } from "./asset-ingest.service.js";
import type { CampaignService } from "./campaign.service.js";
import type { TokenService } from "./token.service.js";

/** How long a signed upload URL stays valid. */
export const UPLOAD_URL_LIFETIME_SECONDS = 3600;

/**
 * Signed uploads: a pending photo and a single-use URL for its bytes (`createUpload`), then the
 * `PUT` of those bytes (`acceptUpload`), which hands them to ingest. The hourly sweep clears
 * what uploads leave behind.
 */
export class AssetUploadService {
  constructor(
    private readonly deps: {
      dataSource: DataSource;
      config: Config;
      tokens: TokenService;
      campaigns: CampaignService;
      ingest: AssetIngestService;
    },
  ) {}

  private get repository() {
    return this.deps.dataSource.getRepository(AssetEntity);
  }

  async createUpload(
    tenantId: string,
    input: {
      campaignId: string;
      filename: string;
      contentType: string;
      byteSize: number;
      purpose?: AssetPurpose | null;
    },
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
        purpose: input.purpose ?? "PHOTO",
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
   * The pending asset a signed upload URL is for, or null for a bad token or an unknown asset
   * (the route answers 403 with no body). Refuses a declared length over the URL's cap.
   */
  async authorizeUpload(
    assetId: string,
    token: string | undefined,
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
    return asset;
  }

  /**
   * The body of a `PUT` to a signed upload URL, streamed into storage as it arrives. The URL is
   * single-use: the asset moves from PENDING_UPLOAD to PROCESSING atomically. A transfer that
   * fails (too large, the client went away) puts it back so the client can try again; a body
   * that is not a photo, or that stalls (no bytes for the idle timeout), fails the asset with a
   * reason. Then the photo is analysed: READY or REJECTED.
   */
  async acceptUpload(asset: AssetEntity, body: Readable): Promise<AssetEntity> {
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
    if (asset.purpose !== "PHOTO") return await this.acceptBrandImage(asset, body);
    let received: ReceivedPhoto;
    try {
      received = await this.deps.ingest.receive(asset.tenantId, body, {
        maxBytes: Math.min(Number(asset.byteSize ?? 0), this.deps.config.maxUploadBytes),
        idleTimeoutMs: this.deps.config.http.idleTimeoutMs,
      });
    } catch (error) {
      if (
        isAppError(error) &&
        (error.code === "UNSUPPORTED_MEDIA_TYPE" || error.code === "REQUEST_TIMEOUT")
      ) {
        await this.deps.ingest.reject(asset, error.message);
        throw new AppError(error.code, error.message, { details: { ...error.details, assetId: asset.id } });
      }
      await this.repository.update({ id: asset.id, status: "PROCESSING" }, { status: "PENDING_UPLOAD" });
      throw error;
    }
    return await this.deps.ingest.ingestReceived(asset, received);
  }
  /** A logo or agent photo is small (an SVG must be read whole to be sanitised): read under the cap, then checked. */
  private async acceptBrandImage(asset: AssetEntity, body: Readable): Promise<AssetEntity> {
    const maxBytes = Math.min(Number(asset.byteSize ?? 0), this.deps.config.maxUploadBytes);
    const chunks: Buffer[] = [];
    let size = 0;
    const iterator = body.iterator({ destroyOnReturn: false });
    try {
      // The client's silence is timed here as for photos (the upload route turned the socket's timer off).
      for (;;) {
        const next = await nextChunk(iterator, undefined, this.deps.config.http.idleTimeoutMs);
        if (next.done) break;
        const chunk = next.value as Buffer;
        size += chunk.length;
        if (size > maxBytes) throw payloadTooLarge(maxBytes);
        chunks.push(chunk);
      }
    } catch (error) {
      await iterator.return?.().catch(() => undefined);
      if (isAppError(error) && error.code === "REQUEST_TIMEOUT") {
        await this.deps.ingest.reject(asset, error.message);
        throw new AppError(error.code, error.message, { details: { ...error.details, assetId: asset.id } });
      }
      await this.repository.update({ id: asset.id, status: "PROCESSING" }, { status: "PENDING_UPLOAD" });
      throw error;
    }
    return await this.deps.ingest.ingestBrandImage(asset, Buffer.concat(chunks));
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
