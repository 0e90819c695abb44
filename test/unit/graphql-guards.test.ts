import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildSchema as buildSdlSchema, GraphQLError, getIntrospectionQuery, parse, validate } from "graphql";
import { AppError, httpStatusFor } from "../../src/errors.js";
import { formatGraphQLError } from "../../src/http/errors.js";
import {
  DEFAULT_QUERY_LIMITS,
  MAX_QUERY_TOKENS,
  QUERY_TOO_COMPLEX,
  queryLimitRules,
} from "../../src/http/query-limits.js";
import { RateLimiter } from "../../src/http/rate-limiter.js";

const schema = buildSdlSchema(`
  type Node { id: ID! child: Node name: String }
  type Query { node: Node viewer: Node }
`);

const errorsOf = (query: string) => validate(schema, parse(query), queryLimitRules());

describe("query limits", () => {
  it("accepts ordinary queries and the standard introspection query", () => {
    assert.equal(errorsOf("{ node { id child { id child { name } } } }").length, 0);
    assert.equal(errorsOf(getIntrospectionQuery()).length, 0);
  });

  it("refuses a depth bomb, directly and through fragments (even one named __schema)", () => {
    const deep = `{ node { ${"child { ".repeat(DEFAULT_QUERY_LIMITS.maxDepth)} id ${"} ".repeat(DEFAULT_QUERY_LIMITS.maxDepth)} } }`;
    assert.equal(errorsOf(deep).length, 1);
    const viaFragments = `
      query { node { ...__schema } }
      fragment __schema on Node { child { ...a } }
      fragment a on Node { child { ...b } }
      fragment b on Node { ${"child { ".repeat(DEFAULT_QUERY_LIMITS.maxDepth)} id ${"} ".repeat(DEFAULT_QUERY_LIMITS.maxDepth)} }`;
    const errors = errorsOf(viaFragments);
    assert.equal(errors.length, 1);
    assert.doesNotMatch(errors[0]!.message, /\d/, "the message does not teach the limit");
  });

  it("counts depth exactly: fields nest, fragments add nothing, the limit itself is allowed", () => {
    // `levels` fields deep: node, then levels - 2 nested child fields, then id.
    const nested = (levels: number, open = "child {", close = "}") =>
      `{ node { ${`${open} `.repeat(levels - 2)} id ${`${close} `.repeat(levels - 2)} } }`;
    assert.equal(errorsOf(nested(DEFAULT_QUERY_LIMITS.maxDepth)).length, 0);
    assert.equal(errorsOf(nested(DEFAULT_QUERY_LIMITS.maxDepth + 1)).length, 1);
    const viaInlineFragments = nested(DEFAULT_QUERY_LIMITS.maxDepth, "child { ... on Node {", "} }");
    assert.equal(errorsOf(viaInlineFragments).length, 0);
  });

  it("does not exempt introspection from the depth limit", () => {
    const deep = `{ __schema { types { ${"ofType { ".repeat(DEFAULT_QUERY_LIMITS.maxDepth)} name ${"} ".repeat(DEFAULT_QUERY_LIMITS.maxDepth)} } } }`;
    assert.equal(errorsOf(deep).length, 1);
  });

  it("refuses alias brute force", () => {
    const aliases = Array.from(
      { length: DEFAULT_QUERY_LIMITS.maxAliases + 1 },
      (_, i) => `a${i}: node { id }`,
    ).join(" ");
    assert.equal(errorsOf(`{ ${aliases} }`).length, 1);
    // Aliases inside a fragment count wherever it is spread.
    const half = Array.from({ length: DEFAULT_QUERY_LIMITS.maxAliases / 2 + 1 }, (_, i) => `a${i}: id`).join(
      " ",
    );
    const spread = `{ node { ...F } viewer { ...F } } fragment F on Node { ${half} }`;
    assert.equal(errorsOf(spread).length, 1);
  });

  it("refuses too many directives", () => {
    const directives = Array.from(
      { length: DEFAULT_QUERY_LIMITS.maxDirectives + 1 },
      () => "@include(if: true)",
    ).join(" ");
    assert.equal(errorsOf(`{ node ${directives} { id } }`).length, 1);
  });

  it("reports one message that does not teach the limits, and never throws from validate", () => {
    const bombs = [
      `{ node { ${"child { ".repeat(40)} id ${"} ".repeat(40)} } }`,
      `{ ${Array.from({ length: 100 }, (_, i) => `a${i}: node { id }`).join(" ")} }`,
      `{ node ${"@include(if: true) ".repeat(100)} { id } }`,
    ];
    for (const bomb of bombs) {
      const errors = errorsOf(bomb);
      assert.deepEqual(
        errors.map((error) => error.message),
        [QUERY_TOO_COMPLEX],
      );
    }
  });

  it("has a parser token limit that stops a large query before it is parsed whole", () => {
    const big = `{ ${"node { id } ".repeat(MAX_QUERY_TOKENS)} }`;
    assert.throws(() => parse(big, { maxTokens: MAX_QUERY_TOKENS }), /token/i);
  });
});

describe("error mapping", () => {
  const noInternal = () => assert.fail("not internal");

  it("gives AppErrors their code and keeps their message", () => {
    const original = new AppError("NOT_FOUND", "Campaign not found");
    const wrapped = new GraphQLError(original.message, { originalError: original, path: ["campaign"] });
    const formatted = formatGraphQLError({ message: wrapped.message, path: ["campaign"] }, wrapped, {
      onInternal: noInternal,
    });
    assert.equal(formatted.extensions?.code, "NOT_FOUND");
    assert.equal(formatted.message, "Campaign not found");
  });

  it("masks unknown errors as INTERNAL_SERVER_ERROR with the request id, without SQL or stacks", () => {
    let logged: unknown;
    const original = new Error('relation "campaign" does not exist at /work/main/dist/src/x.js:1');
    const wrapped = new GraphQLError(original.message, { originalError: original, path: ["campaigns"] });
    const formatted = formatGraphQLError({ message: wrapped.message, path: ["campaigns"] }, wrapped, {
      requestId: "req-123",
      onInternal: (error) => {
        logged = error;
      },
    });
    assert.equal(formatted.extensions?.code, "INTERNAL_SERVER_ERROR");
    assert.equal(formatted.extensions?.requestId, "req-123");
    assert.equal(formatted.message, "Internal server error");
    assert.equal(JSON.stringify(formatted).includes("relation"), false);
    assert.equal(logged, original);
  });

  it("maps codes to HTTP statuses in one table", () => {
    assert.equal(httpStatusFor("UNAUTHENTICATED"), 401);
    assert.equal(httpStatusFor("NOT_FOUND"), 404);
    assert.equal(httpStatusFor("PAYLOAD_TOO_LARGE"), 413);
    assert.equal(httpStatusFor("UNSUPPORTED_MEDIA_TYPE"), 415);
    assert.equal(httpStatusFor("RATE_LIMITED"), 429);
    assert.equal(httpStatusFor("INTERNAL_SERVER_ERROR"), 500);
  });
});

describe("rate limiter", () => {
  it("allows a burst, then asks to wait, per key", () => {
    let now = 0;
    const limiter = new RateLimiter(3, () => now);
    assert.deepEqual([limiter.take("a"), limiter.take("a"), limiter.take("a")], [0, 0, 0]);
    assert.ok(limiter.take("a") >= 1);
    assert.equal(limiter.take("b"), 0, "another key is unaffected");
    now += 20_000;
    assert.equal(limiter.take("a"), 0, "refilled after a third of a minute");
  });
});
