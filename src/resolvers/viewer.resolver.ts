import { Ctx, Query, Resolver } from "type-graphql";
import { AppError } from "../errors.js";
import { Viewer } from "../schema/api-key.type.js";
import type { GraphQLContext } from "./context.js";
import { toApiKey, toTenant } from "./mappers.js";

@Resolver(() => Viewer)
export class ViewerResolver {
  @Query(() => Viewer, { description: "The tenant and key making this request." })
  async viewer(@Ctx() context: GraphQLContext): Promise<Viewer> {
    const { tenantId, apiKeyId } = context.principal;
    const [tenant, apiKey] = await Promise.all([
      context.loaders.tenant.load(tenantId),
      context.services.apiKeys.byId(tenantId, apiKeyId),
    ]);
    if (!tenant || !apiKey) throw new AppError("UNAUTHENTICATED", "Unauthenticated");
    return { tenant: toTenant(tenant), apiKey: toApiKey(apiKey) };
  }
}
