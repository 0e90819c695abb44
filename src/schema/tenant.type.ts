import { Field, ID, ObjectType } from "type-graphql";

@ObjectType({ description: "An account. Everything a key can see belongs to its tenant." })
export class Tenant {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field()
  createdAt!: Date;
}
