import { Arg, Args, Ctx, Mutation, Query, Resolver } from "type-graphql";
import { ApiKey, CreateApiKeyArgs, CreatedApiKey } from "../schema/api-key.type.js";
import { type GraphQLContext, tenantOf } from "./context.js";
import { toApiKey } from "./mappers.js";

@Resolver(() => ApiKey)
export class ApiKeyResolver {
  @Query(() => [ApiKey], { description: "The tenant's API keys (admin scope)." })
  async apiKeys(@Ctx() context: GraphQLContext): Promise<ApiKey[]> {
    const tenantId = tenantOf(context, "admin");
    return (await context.services.apiKeys.list(tenantId)).map(toApiKey);
  }

  @Mutation(() => CreatedApiKey, {
    description: "Creates a key; the returned `key` is shown only this once.",
  })
  async createApiKey(@Args() args: CreateApiKeyArgs, @Ctx() context: GraphQLContext): Promise<CreatedApiKey> {
    const tenantId = tenantOf(context, "admin");
    const { key, apiKey } = await context.services.apiKeys.create(tenantId, args);
    context.logger.info({ prefix: apiKey.prefix }, "api key created");
    return { key, apiKey: toApiKey(apiKey) };
  }

  @Mutation(() => ApiKey, {
    description: "Revokes a key by its prefix; requests with it get 401 from now on.",
  })
  async revokeApiKey(@Arg("prefix") prefix: string, @Ctx() context: GraphQLContext): Promise<ApiKey> {
    const tenantId = tenantOf(context, "admin");
    const revoked = await context.services.apiKeys.revoke(tenantId, prefix);
    context.logger.info({ prefix: revoked.prefix }, "api key revoked");
    return toApiKey(revoked);
  }
}
