/**
 * The GraphQL query limits through the real HTTP stack (Apollo Server 5, graphql 16, the Armor
 * rules from src/http/query-limits.ts): bombs are refused with 400 before any resolver runs, and
 * the answer does not teach the limits (ABUSE 1–3).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { DEFAULT_QUERY_LIMITS, MAX_QUERY_TOKENS, QUERY_TOO_COMPLEX } from "../../src/http/query-limits.js";
import { type InProcessApp, startInProcessApp } from "../helpers/app.js";

/** Campaign → videoJobs → VideoJob → campaign: five field levels per turn. */
const TURN_OPEN = "videoJobs { edges { node { campaign {";
const TURN_CLOSE = "} } } }";

describe("GraphQL query limits over HTTP", () => {
  let app: InProcessApp;
  let key: string;

  before(async () => {
    app = await startInProcessApp({}, { workers: false });
    ({ key } = await app.newTenant("limits"));
  });
  after(async () => {
    await app?.close();
  });

  async function refused(query: string, code: string): Promise<{ message: string }> {
    const response = await app.graphql(key, query);
    assert.equal(response.status, 400, JSON.stringify(response.body));
    assert.equal(response.body.data, undefined, "nothing executed");
    const errors = response.body.errors ?? [];
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.equal(errors[0]!.extensions?.code, code);
    return errors[0]!;
  }

  async function refusedAsTooComplex(query: string): Promise<void> {
    const error = await refused(query, "GRAPHQL_VALIDATION_FAILED");
    assert.equal(error.message, QUERY_TOO_COMPLEX, "the message does not teach the limit");
  }

  it("answers an ordinary query", async () => {
    const response = await app.graphql<{ viewer: { tenant: { name: string } } }>(
      key,
      "{ viewer { tenant { name } } }",
    );
    assert.equal(response.status, 200);
    assert.equal(response.body.data?.viewer.tenant.name, "limits");
  });

  it("refuses a subscription over HTTP with a clear error, before any resolver runs", async () => {
    // Found through GraphiQL: its fetcher sends an operation over HTTP when it has not parsed the
    // editor yet, and the resolver then met no event (an internal error).
    const error = await refused(
      `subscription { videoJobProgress(jobId: "00000000-0000-4000-8000-000000000000") { type } }`,
      "BAD_USER_INPUT",
    );
    assert.match(error.message, /WebSocket/);
  });

  it("refuses a depth bomb, directly and through fragments named like introspection", async () => {
    const turns = Math.ceil(DEFAULT_QUERY_LIMITS.maxDepth / 5) + 1;
    const body = `${TURN_OPEN.repeat(turns)} id ${TURN_CLOSE.repeat(turns)}`;
    await refusedAsTooComplex(`{ campaigns { edges { node { ${body} } } } }`);
    await refusedAsTooComplex(
      `{ campaigns { edges { node { ...__schema } } } }
       fragment __schema on Campaign { ${TURN_OPEN} ...__type ${TURN_CLOSE} }
       fragment __type on Campaign { ${body} }`,
    );
  });

  it("refuses alias brute force and directive floods", async () => {
    const aliases = Array.from(
      { length: DEFAULT_QUERY_LIMITS.maxAliases + 1 },
      (_, i) => `a${i}: viewer { tenant { name } }`,
    );
    await refusedAsTooComplex(`{ ${aliases.join(" ")} }`);
    // One directive per inline fragment: each is valid on its own, only their number is too many.
    const guarded = "... on Viewer @include(if: true) { tenant { name } } ";
    await refusedAsTooComplex(`{ viewer { ${guarded.repeat(DEFAULT_QUERY_LIMITS.maxDirectives + 1)} } }`);
  });

  it("stops a token flood in the parser", async () => {
    // graphql-js's own parse error (it names the token count; formatting errors is src/http/errors.ts's job).
    await refused(`{ ${"viewer { id } ".repeat(MAX_QUERY_TOKENS)} }`, "GRAPHQL_PARSE_FAILED");
  });
});
