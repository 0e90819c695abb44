import type { DataSource, EntityManager } from "typeorm";
import type { AssetPurpose } from "../db/entities/asset.entity.js";
import type { AgentColumns, BrandColumns } from "../db/entities/campaign.entity.js";
import { AssetEntity, CampaignEntity } from "../db/entities/index.js";
import { isUuid } from "../domain/ids.js";
import { AppError } from "../errors.js";
import { deleteUnreferencedMedia, mediaIdsOfCampaign } from "../media/media-references.js";
import { canonicalLocale, checkTimeZone } from "../render/listing-format.js";
import { keysetPage, type Page, type PageArgs } from "./pagination.js";

export interface CampaignFields {
  name?: string;
  address?: string | null;
  price?: number | null;
  currency?: string;
  bedrooms?: number | null;
  bathrooms?: number | null;
  areaSqft?: number | null;
  description?: string | null;
  brand?: BrandColumns | null;
  musicMood?: string | null;
  /** An http(s) URL (graphql-scalars' URL scalar hands a URL object). */
  listingUrl?: URL | string | null;
  agent?: AgentColumns | null;
  locale?: string | null;
  timeZone?: string | null;
}

const HEX_COLOUR = /^#[0-9a-fA-F]{6}$/;

function validate(fields: CampaignFields): void {
  const problems: string[] = [];
  if (fields.name !== undefined && (fields.name.trim().length === 0 || fields.name.length > 200))
    problems.push("name must be 1 to 200 characters");
  if (fields.address && fields.address.length > 500) problems.push("address must be at most 500 characters");
  if (fields.description && fields.description.length > 10_000)
    problems.push("description must be at most 10000 characters");
  if (fields.price != null && !(Number.isFinite(fields.price) && fields.price >= 0 && fields.price < 1e12))
    problems.push("price must be between 0 and 10^12");
  if (fields.currency !== undefined && !/^[A-Z]{3}$/.test(fields.currency))
    problems.push("currency must be an ISO 4217 code");
  if (
    fields.bedrooms != null &&
    !(Number.isInteger(fields.bedrooms) && fields.bedrooms >= 0 && fields.bedrooms <= 1000)
  )
    problems.push("bedrooms must be an integer between 0 and 1000");
  if (
    fields.bathrooms != null &&
    !(fields.bathrooms >= 0 && fields.bathrooms <= 1000 && Number.isInteger(fields.bathrooms * 2))
  )
    problems.push("bathrooms must be a multiple of 0.5 between 0 and 1000");
  if (
    fields.areaSqft != null &&
    !(Number.isInteger(fields.areaSqft) && fields.areaSqft >= 0 && fields.areaSqft <= 10_000_000)
  )
    problems.push("areaSqft must be an integer between 0 and 10000000");
  for (const key of ["primaryColor", "secondaryColor"] as const) {
    const colour = fields.brand?.[key];
    if (colour != null && !HEX_COLOUR.test(colour)) problems.push(`brand.${key} must look like #1A2B3C`);
  }
  if (fields.brand?.tone && fields.brand.tone.length > 200)
    problems.push("brand.tone must be at most 200 characters");
  if (fields.listingUrl != null) {
    const url = String(fields.listingUrl);
    if (!/^https?:\/\//i.test(url) || url.length > 2000)
      problems.push("listingUrl must be an http(s) URL of at most 2000 characters");
  }
  if (fields.agent && fields.agent.name.trim().length === 0) problems.push("agent.name must not be empty");
  if (problems.length > 0)
    throw new AppError("BAD_USER_INPUT", problems.join("; "), { details: { problems } });
}

/**
 * An id the input refers to must name the right kind of object of the same tenant (ABUSE 49):
 * `brand.logoAssetId` a READY logo, `agent.photoAssetId` a READY agent photo. A malformed id is
 * BAD_USER_INPUT; an unknown id, or another tenant's, is NOT_FOUND — the same answer, so ids
 * cannot be probed.
 */
async function checkReferences(
  manager: EntityManager,
  tenantId: string,
  fields: CampaignFields,
): Promise<void> {
  const references: [id: string | null | undefined, purpose: AssetPurpose, field: string][] = [
    [fields.brand?.logoAssetId, "LOGO", "brand.logoAssetId"],
    [fields.agent?.photoAssetId, "AGENT_PHOTO", "agent.photoAssetId"],
  ];
  for (const [id, purpose, field] of references) {
    if (id == null) continue;
    if (!isUuid(id)) throw new AppError("BAD_USER_INPUT", `${field} is not a valid id`);
    const asset = await manager.getRepository(AssetEntity).findOne({ where: { tenantId, id } });
    if (!asset) throw new AppError("NOT_FOUND", `${field}: asset not found`);
    if (asset.purpose !== purpose || asset.status !== "READY") {
      throw new AppError("BAD_USER_INPUT", `${field} must be a READY asset uploaded with purpose ${purpose}`);
    }
  }
}

/** The agent as stored: empty optional strings dropped, the name trimmed. */
function agentColumns(agent: AgentColumns): AgentColumns {
  const optional = (value: string | null | undefined) => (value?.trim() ? value.trim() : null);
  return {
    name: agent.name.trim(),
    phone: optional(agent.phone),
    email: optional(agent.email),
    brokerage: optional(agent.brokerage),
    licenseNumber: optional(agent.licenseNumber),
    photoAssetId: agent.photoAssetId ?? null,
  };
}

function toColumns(fields: CampaignFields): Partial<CampaignEntity> {
  const columns: Partial<CampaignEntity> = {};
  if (fields.name !== undefined) columns.name = fields.name.trim();
  if (fields.address !== undefined) columns.address = fields.address;
  if (fields.price !== undefined) columns.price = fields.price === null ? null : fields.price.toFixed(2);
  if (fields.currency !== undefined) columns.currency = fields.currency;
  if (fields.bedrooms !== undefined) columns.bedrooms = fields.bedrooms;
  if (fields.bathrooms !== undefined)
    columns.bathrooms = fields.bathrooms === null ? null : fields.bathrooms.toFixed(1);
  if (fields.areaSqft !== undefined) columns.areaSqft = fields.areaSqft;
  if (fields.description !== undefined) columns.description = fields.description;
  if (fields.musicMood !== undefined) columns.musicMood = fields.musicMood;
  if (fields.listingUrl !== undefined)
    columns.listingUrl = fields.listingUrl === null ? null : String(fields.listingUrl);
  if (fields.agent !== undefined) columns.agent = fields.agent === null ? null : agentColumns(fields.agent);
  // graphql-scalars checked the shape; Intl decides whether it can format with them
  if (fields.locale != null) columns.locale = canonicalLocale(fields.locale);
  if (fields.timeZone !== undefined)
    columns.timeZone = fields.timeZone === null ? null : checkTimeZone(fields.timeZone);
  return columns;
}

/** Campaigns, always within one tenant: another tenant's id is indistinguishable from a random one. */
export class CampaignService {
  constructor(private readonly dataSource: DataSource) {}

  private get repository() {
    return this.dataSource.getRepository(CampaignEntity);
  }

  async byId(tenantId: string, id: string): Promise<CampaignEntity | null> {
    if (!isUuid(id)) return null;
    return await this.repository.findOne({ where: { tenantId, id } });
  }

  async require(tenantId: string, id: string): Promise<CampaignEntity> {
    const campaign = await this.byId(tenantId, id);
    if (!campaign) throw new AppError("NOT_FOUND", "Campaign not found");
    return campaign;
  }

  async byIds(tenantId: string, ids: readonly string[]): Promise<CampaignEntity[]> {
    const valid = ids.filter(isUuid);
    if (valid.length === 0) return [];
    return await this.repository
      .createQueryBuilder("c")
      .where("c.tenant_id = :tenantId AND c.id = ANY(:ids)", { tenantId, ids: valid })
      .getMany();
  }

  async list(tenantId: string, args: PageArgs): Promise<Page<CampaignEntity>> {
    const query = this.repository.createQueryBuilder("c").where("c.tenant_id = :tenantId", { tenantId });
    return await keysetPage(query, "c", args);
  }

  /**
   * The logo and the agent's photo must be READY assets of this tenant uploaded for that purpose
   * (ABUSE 49): another tenant's id is NOT_FOUND like a random one; a listing photo, a pending
   * or rejected upload is BAD_USER_INPUT.
   */
  async create(tenantId: string, fields: CampaignFields & { name: string }): Promise<CampaignEntity> {
    validate(fields);
    await checkReferences(this.dataSource.manager, tenantId, fields);
    const entity = this.repository.create({
      tenantId,
      ...toColumns(fields),
      brand: fields.brand ?? {},
    });
    return await this.repository.save(entity);
  }

  async update(tenantId: string, id: string, fields: CampaignFields): Promise<CampaignEntity> {
    validate(fields);
    return await this.dataSource.transaction(async (manager) => {
      const repository = manager.getRepository(CampaignEntity);
      const campaign = isUuid(id)
        ? await repository.findOne({ where: { tenantId, id }, lock: { mode: "pessimistic_write" } })
        : null;
      if (!campaign) throw new AppError("NOT_FOUND", "Campaign not found");
      await checkReferences(manager, tenantId, fields);
      Object.assign(campaign, toColumns(fields));
      if (fields.brand !== undefined) campaign.brand = { ...campaign.brand, ...(fields.brand ?? {}) };
      return await repository.save(campaign);
    });
  }

  /** Deletes the campaign with its assets and jobs, and the media only they referenced. */
  async delete(tenantId: string, id: string): Promise<boolean> {
    if (!isUuid(id)) throw new AppError("NOT_FOUND", "Campaign not found");
    return await this.dataSource.transaction(async (manager) => {
      const campaign = await manager
        .getRepository(CampaignEntity)
        .findOne({ where: { tenantId, id }, lock: { mode: "pessimistic_write" } });
      if (!campaign) throw new AppError("NOT_FOUND", "Campaign not found");
      const mediaIds = await mediaIdsOfCampaign(manager, id);
      await manager.getRepository(CampaignEntity).delete({ id, tenantId });
      await deleteUnreferencedMedia(manager, mediaIds);
      return true;
    });
  }
}
