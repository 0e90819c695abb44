import { Field, Float, ID, Int, ObjectType } from "type-graphql";
import type { AssetStatus } from "../db/entities/asset.entity.js";
import type { QualityFlag, RoomType } from "../providers/types.js";
import { connectionTypes } from "./connection.type.js";
import { AssetStatusEnum, QualityFlagEnum, RoomTypeEnum } from "./enums.js";

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
  @Field(() => ID)
  id!: string;

  @Field()
  filename!: string;

  @Field(() => AssetStatusEnum)
  status!: AssetStatus;

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
