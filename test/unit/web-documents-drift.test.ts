import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { it } from "node:test";
import { generate } from "@graphql-codegen/cli";
import { PROJECT_ROOT } from "../helpers/fixtures.js";

/**
 * The console's typed documents (web/src/gql) are generated from schema.graphql and the
 * operations in web/src/graphql, and committed. Regenerated in memory here: a schema change that
 * breaks an operation fails to generate, and a stale file fails the comparison.
 */
it("web/src/gql matches what codegen makes from schema.graphql (run `npm run codegen` to update it)", async () => {
  const config = JSON.parse(readFileSync(path.join(PROJECT_ROOT, "web", "codegen.json"), "utf8"));
  const outputs = (await generate({ ...config, cwd: PROJECT_ROOT, silent: true }, false)) as {
    filename: string;
    content: string;
  }[];
  assert.ok(outputs.length > 0);
  for (const output of outputs) {
    const committed = readFileSync(path.resolve(PROJECT_ROOT, output.filename), "utf8");
    assert.equal(committed, output.content, output.filename);
  }
});
