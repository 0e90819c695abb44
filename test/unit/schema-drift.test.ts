import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { it } from "node:test";
import { buildSchema, printSdl } from "../../src/schema/build-schema.js";
import { PROJECT_ROOT } from "../helpers/fixtures.js";

it("schema.graphql matches the schema the code builds (run `npm run schema` to update it)", async () => {
  const committed = readFileSync(path.join(PROJECT_ROOT, "schema.graphql"), "utf8");
  assert.equal(printSdl(await buildSchema()), committed);
});
