import { Arg, Ctx, Mutation, Resolver } from "type-graphql";
import { TenantSettingsInput } from "../schema/listing.type.js";
import { Tenant } from "../schema/tenant.type.js";
import { type GraphQLContext, tenantOf } from "./context.js";
import { toTenant } from "./mappers.js";

@Resolver(() => Tenant)
export class TenantResolver {
  @Mutation(() => Tenant, {
    description:
      "Changes the tenant's settings (admin scope), e.g. the AI-disclosure label for videos made from now on.",
  })
  async updateTenantSettings(
    @Arg("input", () => TenantSettingsInput) input: TenantSettingsInput,
    @Ctx() context: GraphQLContext,
  ): Promise<Tenant> {
    const tenantId = tenantOf(context, "admin");
    return toTenant(await context.services.tenants.updateSettings(tenantId, input));
  }
}
