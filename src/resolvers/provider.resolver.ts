import { Ctx, Query, Resolver } from "type-graphql";
import { ProviderInfo } from "../schema/provider.type.js";
import { type GraphQLContext, tenantOf } from "./context.js";

@Resolver(() => ProviderInfo)
export class ProviderResolver {
  @Query(() => [ProviderInfo], {
    description:
      "Providers configured on this server (embedded defaults, and real AI models whose keys are set), with capabilities and prices.",
  })
  providers(@Ctx() context: GraphQLContext): ProviderInfo[] {
    tenantOf(context);
    return context.services.providers.list().map(({ role, entry }) => ({
      name: entry.name,
      role,
      description: entry.description,
      price: {
        unit: entry.price.unit,
        unitPriceUsd: entry.price.unitPriceUsd,
        asOf: entry.price.asOf ?? null,
      },
      durations: entry.capabilities?.durations ? [...entry.capabilities.durations] : null,
      resolutions: entry.capabilities?.resolutions ? [...entry.capabilities.resolutions] : null,
      aspectRatios: entry.capabilities?.aspectRatios ? [...entry.capabilities.aspectRatios] : null,
      maxSeconds: entry.capabilities?.maxSeconds ?? null,
    }));
  }
}
