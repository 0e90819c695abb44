import type { DataSource } from "typeorm";
import { TenantEntity } from "../db/entities/index.js";
import { AppError } from "../errors.js";
import type { ApiKeyService } from "./api-key.service.js";

export class TenantService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly apiKeys: ApiKeyService,
  ) {}

  async byId(id: string): Promise<TenantEntity | null> {
    return await this.dataSource.getRepository(TenantEntity).findOne({ where: { id } });
  }

  async byIds(ids: readonly string[]): Promise<TenantEntity[]> {
    return await this.dataSource
      .getRepository(TenantEntity)
      .createQueryBuilder("t")
      .where("t.id = ANY(:ids)", { ids })
      .getMany();
  }

  /**
   * The tenant's settings. The AI-disclosure label is trimmed; empty or null restores the
   * default. Jobs already made keep the label they showed (`Video.aiDisclosure`).
   */
  async updateSettings(id: string, settings: { aiDisclosureText?: string | null }): Promise<TenantEntity> {
    if (settings.aiDisclosureText !== undefined) {
      const text = settings.aiDisclosureText?.trim() || null;
      if (text && (text.length > 120 || [...text].some((ch) => ch < " " || ch === "\u007f")))
        throw new AppError("BAD_USER_INPUT", "aiDisclosureText must be one line of at most 120 characters");
      await this.dataSource.getRepository(TenantEntity).update({ id }, { aiDisclosureText: text });
    }
    const tenant = await this.byId(id);
    if (!tenant) throw new AppError("NOT_FOUND", "Tenant not found");
    return tenant;
  }

  async count(): Promise<number> {
    return await this.dataSource.getRepository(TenantEntity).count();
  }

  /** The tenant with this name, created when missing. */
  async ensure(name: string): Promise<TenantEntity> {
    await this.dataSource.query("INSERT INTO tenant (name) VALUES ($1) ON CONFLICT (name) DO NOTHING", [
      name,
    ]);
    return await this.dataSource.getRepository(TenantEntity).findOneOrFail({ where: { name } });
  }

  /** Creates a key for the named tenant, creating the tenant when it does not exist yet. */
  async createKeyForTenant(
    tenantName: string,
    keyName: string,
    scopes: ("read" | "write" | "admin")[],
  ): Promise<{ key: string; tenant: TenantEntity; prefix: string }> {
    const name = tenantName.trim();
    if (name.length === 0 || name.length > 100)
      throw new AppError("BAD_USER_INPUT", "tenant name must be 1 to 100 characters");
    return await this.dataSource.transaction(async (manager) => {
      await manager.query(`INSERT INTO tenant (name) VALUES ($1) ON CONFLICT (name) DO NOTHING`, [name]);
      const tenant = await manager.getRepository(TenantEntity).findOneOrFail({ where: { name } });
      const { key, apiKey } = await this.apiKeys.create(tenant.id, { name: keyName, scopes }, manager);
      return { key, tenant, prefix: apiKey.prefix };
    });
  }

  /**
   * First start with an empty database: a default tenant and an admin key. Serialised with an
   * advisory lock so two processes starting together create one, not two.
   */
  async bootstrapIfEmpty(): Promise<{ key: string; tenant: TenantEntity } | undefined> {
    return await this.dataSource.transaction(async (manager) => {
      await manager.query("SELECT pg_advisory_xact_lock(hashtext('propvid.bootstrap'))");
      const existing = await manager.getRepository(TenantEntity).count();
      if (existing > 0) return undefined;
      const tenant = await manager
        .getRepository(TenantEntity)
        .save(manager.getRepository(TenantEntity).create({ name: "default" }));
      const { key } = await this.apiKeys.create(
        tenant.id,
        { name: "admin (created on first start)", scopes: ["admin"] },
        manager,
      );
      return { key, tenant };
    });
  }
}
