/**
 * What the listing video shows and how: the agent on the branded outro, the template and its
 * inputs (open-house times, the old price), and the tenant's AI-disclosure setting. Phone,
 * e-mail, URL, locale and time zone use graphql-scalars' validating scalars.
 */
import { IsOptional, MaxLength, MinLength } from "class-validator";
import { GraphQLEmailAddress, GraphQLPhoneNumber } from "graphql-scalars";
import { Field, ID, InputType, ObjectType } from "type-graphql";

@ObjectType({
  description: "The listing agent, shown on the branded outro card (never on the unbranded cut).",
})
export class Agent {
  @Field()
  name!: string;

  @Field(() => GraphQLPhoneNumber, { nullable: true, description: "Shown as given, e.g. +1 707-555-0142." })
  phone!: string | null;

  @Field(() => GraphQLEmailAddress, { nullable: true })
  email!: string | null;

  @Field(() => String, { nullable: true })
  brokerage!: string | null;

  @Field(() => String, { nullable: true })
  licenseNumber!: string | null;

  @Field(() => ID, { nullable: true, description: "An AGENT_PHOTO asset of this tenant." })
  photoAssetId!: string | null;
}

@InputType({ description: "The listing agent. Replaces the whole agent; `agent: null` removes it." })
export class AgentInput {
  @Field()
  @MinLength(1)
  @MaxLength(200)
  name!: string;

  @Field(() => GraphQLPhoneNumber, {
    nullable: true,
    description: "Digits with an optional +country code, spaces or dashes, e.g. +1 707-555-0142.",
  })
  @IsOptional()
  @MaxLength(40)
  phone?: string | null;

  @Field(() => GraphQLEmailAddress, { nullable: true })
  @IsOptional()
  @MaxLength(254)
  email?: string | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(200)
  brokerage?: string | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(60)
  licenseNumber?: string | null;

  @Field(() => ID, {
    nullable: true,
    description: "A READY asset of this tenant uploaded with purpose AGENT_PHOTO.",
  })
  @IsOptional()
  photoAssetId?: string | null;
}

@InputType({ description: "When the open house is (shown in the campaign's locale and time zone)." })
export class OpenHouseInput {
  @Field()
  startsAt!: Date;

  @Field()
  endsAt!: Date;
}

@ObjectType()
export class OpenHouse {
  @Field()
  startsAt!: Date;

  @Field()
  endsAt!: Date;
}

@InputType({ description: "Tenant-wide settings (admin scope)." })
export class TenantSettingsInput {
  @Field(() => String, {
    nullable: true,
    description:
      "The label on scenes from a generative video model; null or empty: the default, " +
      '"Virtually enhanced — AI-generated motion".',
  })
  @IsOptional()
  @MaxLength(120)
  aiDisclosureText?: string | null;
}
