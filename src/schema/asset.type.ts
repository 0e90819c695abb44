import { ArrayMaxSize, IsOptional, Matches, MaxLength, Min } from "class-validator";
import { Field, Float, ID, InputType, Int, ObjectType } from "type-graphql";
import type { AssetPurpose, AssetStatus } from "../db/entities/asset.entity.js";
import type { QualityFlag, RoomType } from "../domain/vocabulary.js";
import { connectionTypes } from "./connection.type.js";
import { AssetPurposeEnum, AssetStatusEnum, QualityFlagEnum, RoomTypeEnum } from "./enums.js";

@ObjectType({ description: "What image analysis measured." })
export class AssetQuality {
  @Field(() => Float, {
    description: "Variance of the Laplacian on an 800 px greyscale copy; higher is sharper.",
  })
  sharpness!: number;

  @Field(() => Float, { description: "Mean luminance, 0 (black) to 1 (white)." })
  exposure!: number;

  @Field(() => Float, { description: "Hasler–Süsstrunk colourfulness." })
  colourfulness!: number;

  @Field(() => [QualityFlagEnum])
  flags!: QualityFlag[];
}

@ObjectType({ description: "A photo in a campaign." })
export class Asset {
  /** Internal: used by field resolvers. */
  tenantId!: string;
  campaignId!: string;
  mediaId!: string | null;
  thumbnailMediaId!: string | null;

  @Field(() => ID)
  id!: string;

  @Field()
  filename!: string;

  @Field(() => AssetStatusEnum)
  status!: AssetStatus;

  @Field(() => AssetPurposeEnum)
  purpose!: AssetPurpose;

  @Field(() => String, { nullable: true })
  rejectionReason!: string | null;

  @Field(() => String, { nullable: true, description: "The type the bytes really are (magic bytes decide)." })
  contentType!: string | null;

  @Field(() => Float, { nullable: true })
  byteSize!: number | null;

  @Field(() => Int, { nullable: true, description: "After EXIF orientation." })
  width!: number | null;

  @Field(() => Int, { nullable: true })
  height!: number | null;

  @Field(() => RoomTypeEnum, { nullable: true, description: "Set by the user, else the guess." })
  roomType!: RoomType | null;

  @Field(() => RoomTypeEnum, { nullable: true, description: "Guessed from tags, alt text and file name." })
  roomTypeGuess!: RoomType | null;

  @Field(() => [String])
  tags!: string[];

  @Field(() => String, { nullable: true })
  altText!: string | null;

  @Field(() => AssetQuality, { nullable: true })
  quality!: AssetQuality | null;

  @Field(() => ID, { nullable: true, description: "Set when this photo is a near-duplicate of another." })
  duplicateOfAssetId!: string | null;

  @Field(() => String, { nullable: true, description: "Where an imported photo came from." })
  sourceUrl!: string | null;

  @Field()
  createdAt!: Date;

  @Field()
  updatedAt!: Date;
}

export const AssetConnection = connectionTypes(Asset, "Asset");

@InputType({ description: "Announce an upload; the bytes then go to `uploadUrl` with PUT." })
export class CreateAssetUploadInput {
  @Field(() => ID)
  campaignId!: string;

  @Field()
  @MaxLength(255)
  filename!: string;

  @Field({ description: "Declared type; the bytes decide in the end (magic bytes)." })
  @MaxLength(100)
  @Matches(/^[\w.+-]+\/[\w.+-]+$/)
  contentType!: string;

  @Field(() => Float, { description: "Exact size in bytes; the upload URL accepts at most this many." })
  @Min(1)
  byteSize!: number;

  @Field(() => AssetPurposeEnum, {
    nullable: true,
    description:
      "Default PHOTO. A LOGO may be PNG, JPEG, WebP or SVG (sanitised); an AGENT_PHOTO PNG, JPEG or WebP.",
  })
  @IsOptional()
  purpose?: AssetPurpose | null;
}

@ObjectType()
export class AssetUpload {
  @Field({ description: "Signed, single-use URL: PUT the raw bytes here, no headers needed." })
  uploadUrl!: string;

  @Field()
  expiresAt!: Date;

  @Field(() => Asset)
  asset!: Asset;
}

@InputType()
export class UpdateAssetInput {
  @Field(() => RoomTypeEnum, {
    nullable: true,
    description: "Overrides the guess; null goes back to the guess.",
  })
  @IsOptional()
  roomType?: RoomType | null;

  @Field(() => [String], { nullable: true })
  @IsOptional()
  @ArrayMaxSize(50)
  tags?: string[] | null;
}

@ObjectType({ description: "What happened to one URL of an import." })
export class AssetImportResult {
  /** Internal. */
  assetId!: string | null;

  @Field()
  url!: string;

  @Field({ description: "`PENDING`, `IMPORTED`, `DUPLICATE` or `FAILED`." })
  status!: string;

  @Field(() => String, { nullable: true })
  errorCode!: string | null;

  @Field(() => String, { nullable: true })
  error!: string | null;

  @Field(() => String, { nullable: true, description: "The photo's alt text on the listing page." })
  altText!: string | null;
}

@ObjectType({ description: "An import of photos by URL or from a listing page, done in the background." })
export class AssetImport {
  @Field(() => ID)
  id!: string;

  @Field({ description: "`URLS` or `LISTING`." })
  kind!: string;

  @Field({ description: "`QUEUED`, `RUNNING`, `SUCCEEDED` or `FAILED`." })
  status!: string;

  @Field(() => String, { nullable: true })
  pageUrl!: string | null;

  @Field(() => [AssetImportResult])
  results!: AssetImportResult[];

  @Field(() => String, { nullable: true })
  error!: string | null;

  @Field()
  createdAt!: Date;

  @Field(() => Date, { nullable: true })
  finishedAt!: Date | null;
}
