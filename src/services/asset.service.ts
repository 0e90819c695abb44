import type { DataSource } from "typeorm";
import { AssetEntity } from "../db/entities/index.js";
import { pagedChildIds } from "./paged-children.js";
import type { PageArgs } from "./pagination.js";
import { isUuid, type Page } from "./pagination.js";

/** Photos of a campaign. Ingest (upload, import, analysis) lives in the media layer. */
export class AssetService {
  constructor(private readonly dataSource: DataSource) {}

  async byIds(tenantId: string, ids: readonly string[]): Promise<AssetEntity[]> {
    const valid = ids.filter(isUuid);
    if (valid.length === 0) return [];
    return await this.dataSource
      .getRepository(AssetEntity)
      .createQueryBuilder("a")
      .where("a.tenant_id = :tenantId AND a.id = ANY(:ids)", { tenantId, ids: valid })
      .getMany();
  }

  /** The campaign's READY photos: what a video is made from. */
  async readyOfCampaign(tenantId: string, campaignId: string): Promise<AssetEntity[]> {
    return await this.dataSource
      .getRepository(AssetEntity)
      .find({ where: { tenantId, campaignId, status: "READY" } });
  }

  async pageIdsByCampaigns(
    tenantId: string,
    campaignIds: readonly string[],
    args: PageArgs,
  ): Promise<Map<string, Page<string>>> {
    return await pagedChildIds(this.dataSource, {
      table: "asset",
      parentColumn: "campaign_id",
      tenantId,
      parentIds: campaignIds,
      first: args.first,
      after: args.after,
    });
  }
}
