import { Field, Float, Int, ObjectType, registerEnumType } from "type-graphql";

export const ProviderRoleEnum = { SELECTOR: "SELECTOR", VIDEO: "VIDEO", MUSIC: "MUSIC" } as const;
registerEnumType(ProviderRoleEnum, {
  name: "ProviderRole",
  description: "What a provider does in the pipeline.",
});

@ObjectType({ description: "A price per unit of work (list price; real providers say when it was checked)." })
export class ProviderPriceInfo {
  @Field({ description: "second (of output), prediction or token." })
  unit!: string;

  @Field(() => Float)
  unitPriceUsd!: number;

  @Field(() => String, { nullable: true, description: "When the list price was last checked (ISO date)." })
  asOf!: string | null;
}

@ObjectType({ description: "A provider a job may choose (selector, videoProvider or musicProvider)." })
export class ProviderInfo {
  @Field({ description: "The name to pass in CreateVideoJobInput, e.g. replicate:google/veo-3.1-fast." })
  name!: string;

  @Field(() => ProviderRoleEnum)
  role!: keyof typeof ProviderRoleEnum;

  @Field()
  description!: string;

  @Field(() => ProviderPriceInfo)
  price!: ProviderPriceInfo;

  @Field(() => [Int], {
    nullable: true,
    description: "Clip durations the model renders; a scene is billed at the next one up.",
  })
  durations!: number[] | null;

  @Field(() => [String], { nullable: true })
  resolutions!: string[] | null;

  @Field(() => [String], { nullable: true, description: "AspectRatio values the provider supports." })
  aspectRatios!: string[] | null;

  @Field(() => Float, { nullable: true, description: "Longest scene (video) or score (music) in seconds." })
  maxSeconds!: number | null;
}
