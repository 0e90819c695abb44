import type { DataSource } from "typeorm";
import { AssetEntity } from "../db/entities/index.js";
import { isUuid } from "../domain/ids.js";
import { ROOM_TYPES, type RoomType } from "../domain/vocabulary.js";
import { AppError } from "../errors.js";
import { deleteUnreferencedMedia } from "../media/media-references.js";
import { guessRoomType } from "../media/room-type.js";
import { promoteCopiesOf } from "./asset-duplicates.js";
import { pagedChildIds } from "./paged-children.js";
import type { Page, PageArgs } from "./pagination.js";

/**
 * Photos of a campaign once they exist: reads for the API, edits and deletion. Getting photos
 * in is elsewhere (`asset-upload.service.ts`, `asset-ingest.service.ts`, `asset-import.service.ts`).
 */
export class AssetService {
  constructor(private readonly dataSource: DataSource) {}

  private get repository() {
    return this.dataSource.getRepository(AssetEntity);
  }

  async byIds(tenantId: string, ids: readonly string[]): Promise<AssetEntity[]> {
    const valid = ids.filter(isUuid);
    if (valid.length === 0) return [];
    return await this.repository
      .createQueryBuilder("a")
      .where("a.tenant_id = :tenantId AND a.id = ANY(:ids)", { tenantId, ids: valid })
      .getMany();
  }

  /** The campaign's READY photos: what a video is made from (never its logo or agent photo). */
  async readyOfCampaign(tenantId: string, campaignId: string): Promise<AssetEntity[]> {
    return await this.dataSource
      .getRepository(AssetEntity)
      .find({ where: { tenantId, campaignId, status: "READY", purpose: "PHOTO" } });
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

  /** Sets the room type (null: back to the guess) or the tags (the guess follows them). */
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
    return await this.dataSource.transaction(async (manager) => {
      const asset = await manager
        .getRepository(AssetEntity)
        .findOne({ where: { tenantId, id }, lock: { mode: "pessimistic_write" } });
      if (!asset) throw new AppError("NOT_FOUND", "Asset not found");
      await manager.getRepository(AssetEntity).delete({ id });
      await promoteCopiesOf(manager, id);
      await deleteUnreferencedMedia(
        manager,
        [asset.mediaId, asset.thumbnailMediaId].filter((mediaId): mediaId is string => mediaId !== null),
      );
      return true;
    });
  }
}
