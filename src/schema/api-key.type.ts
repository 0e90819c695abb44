import { ArrayMaxSize, ArrayMinSize, MaxLength, MinLength } from "class-validator";
import { ArgsType, Field, ID, ObjectType } from "type-graphql";
import type { ApiKeyScope } from "../domain/vocabulary.js";
import { ApiKeyScopeEnum } from "./enums.js";
import { Tenant } from "./tenant.type.js";

@ObjectType({ description: "An API key as stored: its public prefix, never the key itself." })
export class ApiKey {
  @Field(() => ID)
  id!: string;

  @Field({ description: "The public part of the key (`pv_<prefix>_…`), used to revoke it." })
  prefix!: string;

  @Field()
  name!: string;

  @Field(() => [ApiKeyScopeEnum])
  scopes!: ApiKeyScope[];

  @Field()
  createdAt!: Date;

  @Field(() => Date, { nullable: true, description: "Updated at most once a minute." })
  lastUsedAt!: Date | null;

  @Field(() => Date, { nullable: true })
  revokedAt!: Date | null;
}

@ObjectType({ description: "A new key. `key` is shown this once and cannot be recovered." })
export class CreatedApiKey {
  @Field()
  key!: string;

  @Field(() => ApiKey)
  apiKey!: ApiKey;
}

@ObjectType({ description: "Who is calling." })
export class Viewer {
  @Field(() => Tenant)
  tenant!: Tenant;

  @Field(() => ApiKey)
  apiKey!: ApiKey;
}

@ArgsType()
export class CreateApiKeyArgs {
  @Field()
  @MinLength(1)
  @MaxLength(100)
  name!: string;

  @Field(() => [ApiKeyScopeEnum], { defaultValue: ["read", "write"] })
  @ArrayMinSize(1)
  @ArrayMaxSize(3)
  scopes!: ApiKeyScope[];
}
