import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import {
  GraphQLError,
  type GraphQLSchema,
  getIntrospectionQuery,
  getOperationAST,
  parse,
  specifiedRules,
  validate,
} from "graphql";
import { ArgumentValidationError } from "type-graphql";
import { AppError, isAppError } from "../../src/errors.js";
import { presentedApiKey } from "../../src/http/auth.js";
import { formatGraphQLError } from "../../src/http/errors.js";
import { operationCost, UNPAGED_LIST_SIZE } from "../../src/http/query-cost.js";
import { operationRules } from "../../src/http/query-limits.js";
import { RequestGuard, rootFieldCount } from "../../src/http/request-guard.js";
import { buildSchema } from "../../src/schema/build-schema.js";
import type { Principal } from "../../src/services/api-key.service.js";
import { testConfig } from "../helpers/config.js";

const PRINCIPAL: Principal = { tenantId: "t1", apiKeyId: "k1", prefix: "0123456789", scopes: ["admin"] };

/** 30 aliases × 100 campaigns × 100 photos each: the alias × page bomb of ABUSE-CASES. */
const BOMB = `{ ${Array.from(
  { length: 30 },
  (_, i) =>
    `c${i}: campaigns(first: 100) { edges { node { id assets(first: 100) { edges { node { id } } } } } }`,
).join(" ")} }`;

function codeOf(run: () => unknown): { code: string; error: AppError } {
  try {
    run();
  } catch (error) {
    assert.ok(isAppError(error), String(error));
    return { code: error.code, error };
  }
  assert.fail("expected a refusal");
}

describe("query cost", () => {
  let schema: GraphQLSchema;
  before(async () => {
    schema = await buildSchema();
  });
  const cost = (query: string, variables?: Record<string, unknown>) =>
    operationCost({ schema, document: parse(query), variables });

  it("multiplies what a page selects by its size, and counts edges once", () => {
    assert.equal(cost("{ viewer { tenant { name } } }"), 2);
    // campaigns (1) + 10 × (edges' node (1) + node (1)).
    assert.equal(cost("{ campaigns(first: 10) { edges { node { id } } } }"), 1 + 10 * 2);
    assert.equal(
      cost("query($n: Int) { campaigns(first: $n) { edges { node { id } } } }", { n: 50 }),
      1 + 50 * 2,
      "variables count as their value",
    );
    assert.equal(cost("{ campaigns { edges { node { id } } } }"), 1 + 20 * 2, "no first: 20");
    assert.equal(cost("{ campaigns(first: 100000) { edges { node { id } } } }"), 1 + 100 * 2, "at most 100");
    assert.equal(
      cost('{ videoJob(id: "1") { scenes { index } campaign { id } } }'),
      1 + 1 + 1,
      "a list of objects with only scalars selected, an object",
    );
    assert.equal(
      cost('{ videoJob(id: "1") { scenes { index firstAsset { id } } } }'),
      1 + 1 + UNPAGED_LIST_SIZE * 1,
      "a list without first: what it selects, times 12",
    );
  });

  it("prices the alias × page bomb far above the limit, and a real page well under it", () => {
    const bomb = cost(BOMB);
    assert.ok(bomb > 500_000, String(bomb));
    const page = cost(
      "{ campaigns(first: 20) { edges { node { id title assets(first: 6) { edges { node { id } } } } } } }",
    );
    assert.ok(page < 500, String(page));
  });
});

describe("request guard", () => {
  let schema: GraphQLSchema;
  before(async () => {
    schema = await buildSchema();
  });

  function guardWith(
    env: Record<string, string> = {},
    apiKeys: Partial<ConstructorParameters<typeof RequestGuard>[0]["apiKeys"]> = {},
  ) {
    let now = 0;
    const calls = { authenticate: 0 };
    const guard = new RequestGuard({
      config: testConfig(env),
      now: () => now,
      apiKeys: {
        cached: () => undefined,
        authenticate: async () => {
          calls.authenticate++;
          return PRINCIPAL;
        },
        ...apiKeys,
      },
    });
    return { guard, calls, advance: (ms: number) => (now += ms) };
  }

  function check(guard: RequestGuard, query: string, variables?: Record<string, unknown>, charged = 1) {
    const document = parse(query);
    const operation = getOperationAST(document)!;
    return guard.checkOperation({ principal: PRINCIPAL, schema, document, operation, variables, charged });
  }

  it("refuses the bomb before execution with its cost and the limit in the error", () => {
    const { guard } = guardWith();
    const { code, error } = codeOf(() => check(guard, BOMB));
    assert.equal(code, "COST_LIMIT_EXCEEDED");
    assert.equal(error.httpStatus, 400);
    assert.ok(Number(error.details?.cost) > 500_000);
    assert.equal(error.details?.maxCost, 5_000);
    assert.match(error.message, /Query cost \d+ exceeds the limit of 5000/);
    assert.deepEqual(check(guard, "{ viewer { tenant { name } } }"), { cost: 2 });
  });

  it("charges a refused bomb the limit, and refuses a key with a spent budget before parsing", async () => {
    const { guard, calls } = guardWith({}, { cached: () => PRINCIPAL });
    // 50,000 a minute, 5,000 per refused bomb: ten refusals for their cost.
    for (let i = 0; i < 10; i++) assert.equal(codeOf(() => check(guard, BOMB)).code, "COST_LIMIT_EXCEEDED");
    assert.equal(codeOf(() => guard.refuseOverBudget(PRINCIPAL)).code, "RATE_LIMITED");
    await assert.rejects(guard.authenticate("k", "a"), (e) => isAppError(e) && e.code === "RATE_LIMITED");
    assert.equal(calls.authenticate, 0);
  });

  it("keeps a budget of cost per key per minute", () => {
    const { guard, advance } = guardWith({ GRAPHQL_MAX_COST: "1000", GRAPHQL_COST_PER_MINUTE: "1000" });
    const page = "{ campaigns(first: 100) { edges { node { id } } } }"; // 201
    for (let i = 0; i < 4; i++) check(guard, page);
    const { code, error } = codeOf(() => check(guard, page));
    assert.equal(code, "RATE_LIMITED");
    assert.ok(Number(error.details?.retryAfterSeconds) >= 1);
    advance(60_000);
    check(guard, page);
  });

  it("counts each field of a mutation, aliased or in fragments, against the rate limit", () => {
    const doc = parse(
      `mutation { a: deleteAsset(id: "1") b: deleteAsset(id: "2") ...more __typename }
       fragment more on Mutation { c: deleteAsset(id: "3") ... on Mutation { d: deleteAsset(id: "4") } }`,
    );
    assert.equal(rootFieldCount(doc, getOperationAST(doc)!), 4);
    const { guard } = guardWith({ RATE_LIMIT_PER_MINUTE: "5" });
    // The HTTP request took 1 (not here: no authenticate); the other 3 fields take 3 of 5.
    check(
      guard,
      `mutation { a: deleteAsset(id: "1") b: deleteAsset(id: "2") c: deleteAsset(id: "3") d: deleteAsset(id: "4") }`,
    );
    assert.equal(
      codeOf(() =>
        check(
          guard,
          `mutation { a: deleteAsset(id: "1") b: deleteAsset(id: "2") c: deleteAsset(id: "3") }`,
          {},
          0,
        ),
      ).code,
      "RATE_LIMITED",
    );
    check(guard, `mutation { a: deleteAsset(id: "1") }`, {}, 0);
  });

  it("refuses a NUL or a broken surrogate in any string, naming where", () => {
    const { guard } = guardWith();
    const literal = codeOf(() =>
      check(guard, `mutation { importListing(campaignId: "1", pageUrl: "a\\u0000b") { id } }`),
    );
    assert.equal(literal.code, "BAD_USER_INPUT");
    assert.match(literal.error.message, /argument "pageUrl"/);
    const variable = codeOf(() =>
      check(guard, 'mutation($urls: [String!]!) { importAssets(campaignId: "1", urls: $urls) { id } }', {
        urls: ["https://example.com/a.jpg", "x\u0000"],
      }),
    );
    assert.equal(variable.code, "BAD_USER_INPUT");
    assert.match(variable.error.message, /variable \$urls\[1\]/);
    assert.equal(
      codeOf(() => check(guard, "query($id: ID!) { campaign(id: $id) { id } }", { id: "\uD800" })).code,
      "BAD_USER_INPUT",
    );
    check(guard, "query($id: ID!) { campaign(id: $id) { id } }", { id: "emoji \uD83D\uDE00 fine" });
  });

  it("gives a variable of the wrong type as BAD_USER_INPUT", () => {
    const { guard } = guardWith();
    const { code, error } = codeOf(() =>
      check(guard, "query($n: Int) { campaigns(first: $n) { edges { cursor } } }", { n: "many" }),
    );
    assert.equal(code, "BAD_USER_INPUT");
    assert.match(error.message, /\$n/);
  });

  it("answers a cached key without the database, and limits failed authentications per address first", async () => {
    let known = false;
    const { guard, calls, advance } = guardWith(
      { AUTH_FAILURES_PER_MINUTE: "3" },
      {
        cached: () => (known ? PRINCIPAL : undefined),
        authenticate: async () => {
          calls.authenticate++;
          throw new AppError("UNAUTHENTICATED", "Unauthenticated");
        },
      },
    );
    for (let i = 0; i < 3; i++)
      await assert.rejects(
        guard.authenticate("bad", "10.0.0.1"),
        (e) => isAppError(e) && e.code === "UNAUTHENTICATED",
      );
    await assert.rejects(
      guard.authenticate("bad", "10.0.0.1"),
      (e) => isAppError(e) && e.code === "RATE_LIMITED",
    );
    assert.equal(calls.authenticate, 3, "the blocked attempt did not reach the database");
    await assert.rejects(
      guard.authenticate("bad", "10.0.0.2"),
      (e) => isAppError(e) && e.code === "UNAUTHENTICATED",
    );
    known = true;
    assert.equal(await guard.authenticate("good", "10.0.0.1"), PRINCIPAL, "a verified key is not blocked");
    assert.equal(calls.authenticate, 4);
    known = false;
    advance(60_000);
    await assert.rejects(
      guard.authenticate("bad", "10.0.0.1"),
      (e) => isAppError(e) && e.code === "UNAUTHENTICATED",
    );
  });

  it("refuses an over-limit cached key without the database", async () => {
    const { guard, calls } = guardWith({ RATE_LIMIT_PER_MINUTE: "2" }, { cached: () => PRINCIPAL });
    await guard.authenticate("good", "a");
    await guard.authenticate("good", "a");
    await assert.rejects(guard.authenticate("good", "a"), (e) => isAppError(e) && e.code === "RATE_LIMITED");
    assert.equal(calls.authenticate, 0);
  });

  it("turns a database outage met while authenticating into SERVICE_UNAVAILABLE", async () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
    const { guard } = guardWith({}, { authenticate: async () => Promise.reject(refused) });
    await assert.rejects(guard.authenticate("k", "a"), (e) => {
      assert.ok(isAppError(e));
      assert.equal(e.code, "SERVICE_UNAVAILABLE");
      assert.equal(e.httpStatus, 503);
      assert.equal(e.details?.retryAfterSeconds, 5);
      return true;
    });
  });

  it("refuses WebSocket connects over the rate per address", () => {
    const { guard } = guardWith({ WS_CONNECTS_PER_MINUTE: "2" });
    guard.admitConnect("a");
    guard.admitConnect("a");
    assert.equal(codeOf(() => guard.admitConnect("a")).code, "RATE_LIMITED");
    guard.admitConnect("b");
  });
});

describe("presented API key", () => {
  it("takes X-API-Key or a Bearer token, and refuses two different ones", () => {
    assert.equal(presentedApiKey({ "x-api-key": "abc" }), "abc");
    assert.equal(presentedApiKey({ authorization: "Bearer abc" }), "abc");
    assert.equal(presentedApiKey({ "x-api-key": "abc", authorization: "Bearer abc" }), "abc");
    assert.equal(presentedApiKey({}), undefined);
    assert.equal(
      codeOf(() => presentedApiKey({ "x-api-key": "abc", authorization: "Bearer xyz" })).code,
      "BAD_USER_INPUT",
    );
  });
});

describe("guard settings", () => {
  it("reads CORS_ORIGINS as exact origins and refuses anything else", () => {
    assert.deepEqual(
      testConfig({ CORS_ORIGINS: "https://app.example.com, http://localhost:5173" }).corsOrigins,
      ["https://app.example.com", "http://localhost:5173"],
    );
    assert.deepEqual(testConfig().corsOrigins, []);
    assert.throws(() => testConfig({ CORS_ORIGINS: "https://app.example.com/" }), /CORS_ORIGINS/);
    assert.throws(() => testConfig({ CORS_ORIGINS: "*" }), /CORS_ORIGINS/);
  });

  it("refuses a cost budget smaller than the largest query", () => {
    assert.throws(
      () => testConfig({ GRAPHQL_MAX_COST: "5000", GRAPHQL_COST_PER_MINUTE: "100" }),
      /GRAPHQL_COST_PER_MINUTE/,
    );
    assert.equal(testConfig({ GRAPHQL_COST_PER_MINUTE: "0" }).limits.costPerMinute, 0);
  });
});

describe("one policy for both transports", () => {
  it("refuses introspection where it is off, and allows it elsewhere", async () => {
    const schema = await buildSchema();
    const document = parse(getIntrospectionQuery());
    const off = validate(schema, document, [...specifiedRules, ...operationRules({ introspection: false })]);
    assert.ok(off.length > 0);
    assert.match(off[0]!.message, /introspection/i);
    assert.deepEqual(
      validate(schema, document, [...specifiedRules, ...operationRules({ introspection: true })]),
      [],
    );
  });

  it("names the field and the rule of a class-validator failure, nested ones with their path", () => {
    const thrown = new ArgumentValidationError([
      {
        property: "sceneCount",
        constraints: { max: "sceneCount must not be greater than 12" },
        children: [],
      },
      {
        property: "brand",
        children: [{ property: "color", constraints: { matches: "color must be #rrggbb" }, children: [] }],
      },
    ] as never);
    const located = new GraphQLError(thrown.message, { originalError: thrown, path: ["createVideoJob"] });
    const formatted = formatGraphQLError(located.toJSON(), located, {
      requestId: "r",
      onInternal: () => undefined,
    });
    assert.equal(formatted.extensions?.code, "BAD_USER_INPUT");
    assert.equal(
      formatted.message,
      "Invalid input: sceneCount (max): sceneCount must not be greater than 12; brand.color (matches): color must be #rrggbb",
    );
  });

  it("gives an unreachable database SERVICE_UNAVAILABLE, never INTERNAL_SERVER_ERROR", () => {
    const driver = Object.assign(new Error("Connection terminated unexpectedly"), {});
    const typeorm = Object.assign(new Error("query failed"), { driverError: driver });
    const located = new GraphQLError("query failed", { originalError: typeorm, path: ["campaigns"] });
    let internal = 0;
    const formatted = formatGraphQLError(located.toJSON(), located, {
      requestId: "r",
      onInternal: () => internal++,
    });
    assert.equal(formatted.extensions?.code, "SERVICE_UNAVAILABLE");
    assert.equal(formatted.extensions?.retryAfterSeconds, 5);
    assert.equal(internal, 0);
    assert.doesNotMatch(formatted.message, /Connection terminated/);
  });
});
