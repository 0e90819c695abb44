import { IsHexColor, IsInt, IsOptional, Matches, Max, MaxLength, Min, MinLength } from "class-validator";
import { GraphQLLocale, GraphQLTimeZone, GraphQLURL } from "graphql-scalars";
import { Field, Float, ID, InputType, Int, ObjectType } from "type-graphql";
import type { MusicMood } from "../domain/vocabulary.js";
import { connectionTypes } from "./connection.type.js";
import { MusicMoodEnum } from "./enums.js";
import { Agent, AgentInput } from "./listing.type.js";

@ObjectType({ description: "How the video should look and sound for this brand." })
export class Brand {
  @Field(() => String, { nullable: true, description: "Hex colour, e.g. #1A2B3C." })
  primaryColor!: string | null;

  @Field(() => String, { nullable: true })
  secondaryColor!: string | null;

  @Field(() => String, { nullable: true, description: "Free text, e.g. 'understated luxury'." })
  tone!: string | null;

  @Field(() => ID, {
    nullable: true,
    description: "A READY asset of this tenant uploaded with purpose LOGO.",
  })
  logoAssetId!: string | null;
}

@ObjectType({ description: "A property being marketed, with its photos and videos." })
export class Campaign {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field(() => String, { nullable: true })
  address!: string | null;

  @Field(() => Float, { nullable: true })
  price!: number | null;

  @Field({ description: "ISO 4217 code of `price`." })
  currency!: string;

  @Field(() => Int, { nullable: true })
  bedrooms!: number | null;

  @Field(() => Float, { nullable: true })
  bathrooms!: number | null;

  @Field(() => Int, { nullable: true })
  areaSqft!: number | null;

  @Field(() => String, { nullable: true })
  description!: string | null;

  @Field(() => Brand)
  brand!: Brand;

  @Field(() => MusicMoodEnum, { nullable: true, description: "Default mood for this campaign's videos." })
  musicMood!: MusicMood | null;

  @Field(() => GraphQLURL, {
    nullable: true,
    description: "The listing's page; the outro's QR code points here.",
  })
  listingUrl!: string | null;

  @Field(() => Agent, { nullable: true })
  agent!: Agent | null;

  @Field(() => GraphQLLocale, {
    description: "How numbers, prices and dates are written on screen (BCP 47).",
  })
  locale!: string;

  @Field(() => GraphQLTimeZone, {
    nullable: true,
    description: "The property's IANA time zone (open-house times); needed for OPEN_HOUSE videos.",
  })
  timeZone!: string | null;

  @Field()
  createdAt!: Date;

  @Field()
  updatedAt!: Date;
}

export const CampaignConnection = connectionTypes(Campaign, "Campaign");

@InputType()
export class BrandInput {
  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsHexColor()
  @Matches(/^#[0-9a-fA-F]{6}$/)
  primaryColor?: string | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @Matches(/^#[0-9a-fA-F]{6}$/)
  secondaryColor?: string | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(200)
  tone?: string | null;

  @Field(() => ID, { nullable: true })
  @IsOptional()
  logoAssetId?: string | null;
}

@InputType()
export class CampaignFieldsInput {
  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(500)
  address?: string | null;

  @Field(() => Float, { nullable: true })
  @IsOptional()
  @Min(0)
  @Max(1e12)
  price?: number | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @Matches(/^[A-Z]{3}$/)
  currency?: string;

  @Field(() => Int, { nullable: true })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(1000)
  bedrooms?: number | null;

  @Field(() => Float, { nullable: true })
  @IsOptional()
  @Min(0)
  @Max(1000)
  bathrooms?: number | null;

  @Field(() => Int, { nullable: true })
  @IsOptional()
  @Min(0)
  @Max(10_000_000)
  areaSqft?: number | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(10_000)
  description?: string | null;

  @Field(() => BrandInput, { nullable: true })
  @IsOptional()
  brand?: BrandInput | null;

  @Field(() => MusicMoodEnum, { nullable: true })
  @IsOptional()
  musicMood?: MusicMood | null;

  @Field(() => GraphQLURL, {
    nullable: true,
    description: "An http(s) URL; the outro's QR code points here.",
  })
  @IsOptional()
  listingUrl?: URL | string | null;

  @Field(() => AgentInput, { nullable: true })
  @IsOptional()
  agent?: AgentInput | null;

  @Field(() => GraphQLLocale, { nullable: true, description: "Default en-US." })
  @IsOptional()
  locale?: string;

  @Field(() => GraphQLTimeZone, { nullable: true })
  @IsOptional()
  timeZone?: string | null;
}

@InputType()
export class CreateCampaignInput extends CampaignFieldsInput {
  @Field()
  @MinLength(1)
  @MaxLength(200)
  name!: string;
}

@InputType()
export class UpdateCampaignInput extends CampaignFieldsInput {
  @Field(() => String, { nullable: true })
  @IsOptional()
  @MinLength(1)
  @MaxLength(200)
  name?: string;
}
