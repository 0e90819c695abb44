import { Field, Float, Int, ObjectType } from "type-graphql";

@ObjectType({ description: "One UTC day of a tenant's usage." })
export class UsageDay {
  @Field({ description: "The UTC day, YYYY-MM-DD." })
  date!: string;

  @Field(() => Int, {
    description: "Videos completed that day (a job counts once, however often it is re-assembled).",
  })
  videos!: number;

  @Field(() => Float, { description: "Seconds of video completed that day." })
  renderedSeconds!: number;

  @Field(() => Float, { description: "Providers' actual charges that day, in US dollars." })
  providerCostUsd!: number;
}

@ObjectType({
  description:
    "A tenant's usage over a time range, from facts recorded when they happened (a job's finish, a provider's charge, media stored or deleted, a photo becoming ready); deleting a campaign does not change past usage.",
})
export class Usage {
  @Field(() => Int, { description: "Videos completed in the range." })
  videos!: number;

  @Field(() => Float, { description: "Seconds of video completed in the range." })
  renderedSeconds!: number;

  @Field(() => Float, { description: "Providers' actual charges in the range, in US dollars." })
  providerCostUsd!: number;

  @Field(() => Float, {
    description: "Bytes stored at the end of the range (media: photos, clips, scores, videos).",
  })
  storageBytes!: number;

  @Field(() => Int, { description: "Photos that became ready in the range." })
  assets!: number;

  @Field(() => [UsageDay], {
    description: "Every UTC day the range touches, oldest first, days without usage included.",
  })
  byDay!: UsageDay[];
}
