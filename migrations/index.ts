import { InitialSchema1764000000000 } from "./1764000000000-initial-schema.js";
import { TenantQuotasUsage1765500000000 } from "./1765500000000-tenant-quotas-usage.js";

/** Every migration, in order. TypeORM runs the ones not yet in `typeorm_migrations`. */
// biome-ignore lint/complexity/noBannedTypes: TypeORM takes migration classes as Function.
export const MIGRATIONS: Function[] = [InitialSchema1764000000000, TenantQuotasUsage1765500000000];
