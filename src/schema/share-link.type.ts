import { IsOptional } from "class-validator";
import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from "type-graphql";
import { SHARE_VARIANTS, type ShareVariant } from "../delivery/share-link.service.js";

export const ShareVariantEnum = Object.fromEntries(SHARE_VARIANTS.map((value) => [value, value])) as {
  [K in ShareVariant]: K;
};
registerEnumType(ShareVariantEnum, {
  name: "ShareVariant",
  description: "BRANDED (outro card, agent card on the page) or UNBRANDED (for MLS video fields).",
});

@ObjectType({ description: "A public link to a job's video: `url` opens the share page, no key needed." })
export class ShareLink {
  @Field(() => ID)
  id!: string;

  @Field({ description: "The share page; unguessable (192 random bits), stable until revoked or expired." })
  url!: string;

  @Field(() => ShareVariantEnum)
  variant!: ShareVariant;

  @Field(() => Date, { nullable: true })
  expiresAt!: Date | null;

  @Field(() => Date, { nullable: true })
  revokedAt!: Date | null;

  @Field()
  createdAt!: Date;

  @Field(() => Int, { description: "Plays started on the share page (no personal data is kept)." })
  views!: number;

  @Field(() => Float, { description: "Seconds watched on the share page, summed over all viewers." })
  watchSeconds!: number;
}

@InputType()
export class CreateShareLinkInput {
  @Field(() => ID)
  videoJobId!: string;

  @Field(() => ShareVariantEnum, { nullable: true, description: "Default BRANDED." })
  @IsOptional()
  variant?: ShareVariant | null;

  @Field(() => Date, { nullable: true, description: "Never expires when omitted (until revoked)." })
  @IsOptional()
  expiresAt?: Date | null;
}
