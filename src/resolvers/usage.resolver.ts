import { Arg, Ctx, GraphQLISODateTime, Query, Resolver } from "type-graphql";
import { Usage } from "../schema/usage.type.js";
import { MAX_USAGE_DAYS } from "../services/usage.service.js";
import { type GraphQLContext, tenantOf } from "./context.js";

@Resolver(() => Usage)
export class UsageResolver {
  @Query(() => Usage, {
    description: `The caller's tenant's usage from \`from\` (inclusive) to \`to\` (exclusive), at most ${MAX_USAGE_DAYS} days.`,
  })
  async usage(
    @Arg("from", () => GraphQLISODateTime) from: Date,
    @Arg("to", () => GraphQLISODateTime) to: Date,
    @Ctx() context: GraphQLContext,
  ): Promise<Usage> {
    return await context.services.usage.usage(tenantOf(context), from, to);
  }
}
