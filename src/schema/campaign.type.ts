import { IsHexColor, IsInt, IsOptional, Matches, Max, MaxLength, Min, MinLength } from "class-validator";
import { Field, Float, ID, InputType, Int, ObjectType } from "type-graphql";
import type { MusicMood } from "../domain/vocabulary.js";
import { connectionTypes } from "./connection.type.js";
import { MusicMoodEnum } from "./enums.js";

@ObjectType({ description: "How the video should look and sound for this brand." })
export class Brand {
  @Field(() => String, { nullable: true, description: "Hex colour, e.g. #1A2B3C." })
  primaryColor!: string | null;

  @Field(() => String, { nullable: true })
  secondaryColor!: string | null;

  @Field(() => String, { nullable: true, description: "Free text, e.g. 'understated luxury'." })
  tone!: string | null;

  @Field(() => ID, { nullable: true, description: "An asset of the campaign used as the logo." })
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
