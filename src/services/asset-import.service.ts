import path from "node:path";
import type { DataSource } from "typeorm";
import type { Config } from "../config.js";
import type { ImportResultColumns } from "../db/entities/asset-import.entity.js";
import { AssetImportEntity } from "../db/entities/index.js";
import { isUuid } from "../domain/ids.js";
import { AppError, isAppError } from "../errors.js";
import type { Logger } from "../logger.js";
import { extractListingPhotos } from "../media/listing-parser.js";
import { safeFetch } from "../media/safe-fetch.js";
import { type OutboundPolicy, parseOutboundUrl } from "../media/ssrf-guard.js";
import type { WebhookOutbox } from "../webhooks/webhook-outbox.js";
import type { AssetIngestService } from "./asset-ingest.service.js";
import type { CampaignService } from "./campaign.service.js";
import type { JobQueue } from "./job-queue.js";

export const MAX_IMPORT_URLS = 100;
/** URLs of one import fetched at once. */
const IMPORT_CONCURRENCY = 3;
const PAGE_MAX_BYTES = 5 * 1024 * 1024;

/** A file name for an imported photo: the URL's last path segment, cleaned. */
export function filenameFromUrl(url: string): string {
  try {
    const name = decodeURIComponent(path.posix.basename(new URL(url).pathname));
    return name && name !== "/" ? name : "imported-photo";
  } catch {
    return "imported-photo";
  }
}

/**
 * Importing photos by URL and from listing pages. The request is recorded at once (one result
 * per URL) and done by the `asset.import` job; every outbound request goes through safeFetch.
 */
export class AssetImportService {
  constructor(
    private readonly deps: {
      dataSource: DataSource;
      config: Config;
      logger: Logger;
      queue: Pick<JobQueue, "importAssets">;
      campaigns: CampaignService;
      ingest: AssetIngestService;
      /** IMPORT_COMPLETED partner webhooks, written with the import's final status. */
      outbox: Pick<WebhookOutbox, "importCompleted">;
    },
  ) {}

  get policy(): OutboundPolicy {
    return { allowedPorts: [80, 443], allowLoopbackForTests: this.deps.config.allowLoopbackFetch };
  }

  private get repository() {
    return this.deps.dataSource.getRepository(AssetImportEntity);
  }

  async byId(tenantId: string, id: string): Promise<AssetImportEntity | null> {
    return isUuid(id) ? await this.repository.findOne({ where: { tenantId, id } }) : null;
  }

  async importUrls(tenantId: string, campaignId: string, urls: string[]): Promise<AssetImportEntity> {
    await this.deps.campaigns.require(tenantId, campaignId);
    if (urls.length === 0 || urls.length > MAX_IMPORT_URLS) {
      throw new AppError("BAD_USER_INPUT", `Give between 1 and ${MAX_IMPORT_URLS} URLs`);
    }
    const results = [...new Set(urls.map((url) => url.trim()))].map((url) => this.initialResult(url));
    return await this.record(tenantId, campaignId, "URLS", null, results);
  }

  async importListing(tenantId: string, campaignId: string, pageUrl: string): Promise<AssetImportEntity> {
    await this.deps.campaigns.require(tenantId, campaignId);
    parseOutboundUrl(pageUrl, this.policy); // a blocked page is refused at once
    return await this.record(tenantId, campaignId, "LISTING", pageUrl, []);
  }

  /** A URL that fails the static checks is recorded as failed without any connection. */
  private initialResult(url: string): ImportResultColumns {
    try {
      parseOutboundUrl(url, this.policy);
      return { url, status: "PENDING" };
    } catch (error) {
      const app = isAppError(error) ? error : new AppError("URL_NOT_ALLOWED", "URL not allowed");
      return { url, status: "FAILED", errorCode: app.code, error: app.message };
    }
  }

  private async record(
    tenantId: string,
    campaignId: string,
    kind: "URLS" | "LISTING",
    pageUrl: string | null,
    results: ImportResultColumns[],
  ): Promise<AssetImportEntity> {
    const row = await this.repository.save(
      this.repository.create({ tenantId, campaignId, kind, pageUrl, status: "QUEUED", results }),
    );
    await this.deps.queue.importAssets(row.id);
    return row;
  }

  /** The job: fetch the page if any, then every pending URL, a few at a time. Idempotent. */
  async run(importId: string): Promise<void> {
    const row = await this.repository.findOne({ where: { id: importId } });
    if (!row || row.status === "SUCCEEDED" || row.status === "FAILED") return;
    await this.repository.update({ id: row.id }, { status: "RUNNING" });
    const log = this.deps.logger.child({ importId, tenantId: row.tenantId });

    if (row.kind === "LISTING" && row.results.length === 0 && row.pageUrl) {
      try {
        const page = await safeFetch(row.pageUrl, {
          policy: this.policy,
          maxBytes: PAGE_MAX_BYTES,
          connectTimeoutMs: 10_000,
          totalTimeoutMs: 30_000,
          accept: "text/html,application/xhtml+xml",
          allowedContentTypes: ["text/html", "application/xhtml+xml"],
        });
        if (page.status < 200 || page.status > 299)
          throw new AppError("FETCH_FAILED", `The page answered ${page.status}`);
        const photos = extractListingPhotos(page.body.toString("utf8"), page.finalUrl).slice(
          0,
          MAX_IMPORT_URLS,
        );
        row.results = photos.map((photo) => ({ ...this.initialResult(photo.url), altText: photo.altText }));
        await this.repository.update({ id: row.id }, { results: row.results as never });
      } catch (error) {
        const app = isAppError(error) ? error : new AppError("FETCH_FAILED", "The page could not be fetched");
        log.info({ code: app.code }, "listing page import failed");
        await this.finish(row.id, { status: "FAILED", error: `${app.code}: ${app.message}` });
        return;
      }
    }

    const pending = row.results
      .map((result, index) => ({ result, index }))
      .filter(({ result }) => result.status === "PENDING");
    let next = 0;
    const workers = Array.from({ length: Math.min(IMPORT_CONCURRENCY, pending.length) }, async () => {
      while (next < pending.length) {
        const { result, index } = pending[next++]!;
        const outcome = await this.importOne(row, result);
        await this.deps.dataSource.query(
          `UPDATE asset_import SET results = jsonb_set(results, $2, $3::jsonb) WHERE id = $1`,
          [row.id, `{${index}}`, JSON.stringify(outcome)],
        );
      }
    });
    await Promise.all(workers);
    await this.finish(row.id, { status: "SUCCEEDED" });
    log.info({ urls: row.results.length }, "import finished");
  }

  /** The import's final status and its partner webhook, in one transaction (an outbox). */
  private async finish(
    id: string,
    end: Pick<AssetImportEntity, "status"> & { error?: string },
  ): Promise<void> {
    await this.deps.dataSource.transaction(async (manager) => {
      await manager.getRepository(AssetImportEntity).update({ id }, { ...end, finishedAt: new Date() });
      await this.deps.outbox.importCompleted(manager, id);
    });
  }

  private async importOne(row: AssetImportEntity, result: ImportResultColumns): Promise<ImportResultColumns> {
    try {
      const fetched = await safeFetch(result.url, {
        policy: this.policy,
        maxBytes: this.deps.config.maxUploadBytes,
        connectTimeoutMs: 10_000,
        totalTimeoutMs: 60_000,
        accept: "image/avif,image/webp,image/png,image/jpeg,image/*;q=0.8",
      });
      if (fetched.status < 200 || fetched.status > 299)
        throw new AppError("FETCH_FAILED", `The server answered ${fetched.status}`);
      const tags = result.altText ? [result.altText.slice(0, 100)] : [];
      const asset = await this.deps.ingest.ingestNew(
        row.tenantId,
        row.campaignId,
        filenameFromUrl(fetched.finalUrl),
        fetched.body,
        {
          altText: result.altText ?? null,
          sourceUrl: result.url,
          tags,
        },
      );
      if (asset.status === "REJECTED") {
        return {
          ...result,
          status: "FAILED",
          assetId: asset.id,
          errorCode: "MEDIA_REJECTED",
          error: asset.rejectionReason,
        };
      }
      return { ...result, status: asset.duplicateOfAssetId ? "DUPLICATE" : "IMPORTED", assetId: asset.id };
    } catch (error) {
      if (!isAppError(error))
        this.deps.logger.warn({ err: error, importId: row.id }, "import of one URL failed");
      const app = isAppError(error) ? error : new AppError("FETCH_FAILED", "The photo could not be imported");
      return { ...result, status: "FAILED", errorCode: app.code, error: app.message };
    }
  }
}
