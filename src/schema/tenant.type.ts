import { Field, ID, ObjectType } from "type-graphql";

@ObjectType({ description: "An account. Everything a key can see belongs to its tenant." })
export class Tenant {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field(() => String, {
    nullable: true,
    description: "The AI-disclosure label set by an admin; null: the default text.",
  })
  aiDisclosureText!: string | null;

  @Field()
  createdAt!: Date;
}
