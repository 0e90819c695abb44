import type { DataSource } from "typeorm";
import { SceneEntity, VideoJobEntity } from "../db/entities/index.js";
import { isUuid } from "../domain/ids.js";
import { pagedChildIds } from "./paged-children.js";
import type { Page, PageArgs } from "./pagination.js";

/** Reading video jobs and their scenes; the pipeline that writes them lives in src/jobs. */
export class VideoJobService {
  constructor(private readonly dataSource: DataSource) {}

  async byIds(tenantId: string, ids: readonly string[]): Promise<VideoJobEntity[]> {
    const valid = ids.filter(isUuid);
    if (valid.length === 0) return [];
    return await this.dataSource
      .getRepository(VideoJobEntity)
      .createQueryBuilder("j")
      .where("j.tenant_id = :tenantId AND j.id = ANY(:ids)", { tenantId, ids: valid })
      .getMany();
  }

  async scenesByJobIds(tenantId: string, jobIds: readonly string[]): Promise<SceneEntity[]> {
    const valid = jobIds.filter(isUuid);
    if (valid.length === 0) return [];
    return await this.dataSource
      .getRepository(SceneEntity)
      .createQueryBuilder("s")
      .where("s.tenant_id = :tenantId AND s.job_id = ANY(:ids)", { tenantId, ids: valid })
      .orderBy("s.index", "ASC")
      .getMany();
  }

  async pageIdsByCampaigns(
    tenantId: string,
    campaignIds: readonly string[],
    args: PageArgs,
  ): Promise<Map<string, Page<string>>> {
    return await pagedChildIds(this.dataSource, {
      table: "video_job",
      parentColumn: "campaign_id",
      tenantId,
      parentIds: campaignIds,
      first: args.first,
      after: args.after,
    });
  }
}
