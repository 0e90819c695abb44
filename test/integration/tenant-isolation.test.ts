import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { type InProcessApp, startInProcessApp } from "../helpers/app.js";

/** With tenant A's key, every way to reach tenant B's campaigns looks exactly like a random id. */
describe("tenant isolation for campaigns", () => {
  let app: InProcessApp;
  let keyA: string;
  let keyB: string;
  let campaignB: string;

  before(async () => {
    app = await startInProcessApp();
    keyA = (await app.newTenant("tenant-a")).key;
    keyB = (await app.newTenant("tenant-b")).key;
    const created = await app.graphql<{ createCampaign: { id: string } }>(
      keyB,
      `mutation { createCampaign(input: { name: "B's villa", price: 2000000 }) { id } }`,
    );
    campaignB = created.body.data!.createCampaign.id;
    await app.graphql(keyA, `mutation { createCampaign(input: { name: "A's flat" }) { id } }`);
  });
  after(async () => {
    await app.close();
  });

  const cases: [name: string, query: string][] = [
    ["campaign(id)", `query($id: ID!) { campaign(id: $id) { id name } }`],
    ["updateCampaign", `mutation($id: ID!) { updateCampaign(id: $id, input: { name: "stolen" }) { id } }`],
    ["deleteCampaign", `mutation($id: ID!) { deleteCampaign(id: $id) }`],
  ];

  for (const [name, query] of cases) {
    it(`${name}: another tenant's id answers exactly like a random id`, async () => {
      const foreign = await app.graphql(keyA, query, { id: campaignB });
      const random = await app.graphql(keyA, query, { id: randomUUID() });
      const malformed = await app.graphql(keyA, query, { id: "not-a-uuid" });
      assert.equal(foreign.status, random.status);
      assert.equal(foreign.body.errors?.[0]?.extensions?.code, "NOT_FOUND");
      assert.deepEqual(foreign.body, random.body);
      assert.deepEqual(malformed.body, random.body);
    });
  }

  it("campaigns lists only the caller's campaigns", async () => {
    const listA = await app.graphql<{ campaigns: { edges: { node: { name: string } }[] } }>(
      keyA,
      "{ campaigns { edges { node { name } } } }",
    );
    assert.deepEqual(
      listA.body.data!.campaigns.edges.map((edge) => edge.node.name),
      ["A's flat"],
    );
  });

  it("B's campaign is untouched by A's attempts", async () => {
    const own = await app.graphql<{ campaign: { name: string; price: number } }>(
      keyB,
      `query($id: ID!) { campaign(id: $id) { name price } }`,
      { id: campaignB },
    );
    assert.deepEqual(own.body.data!.campaign, { name: "B's villa", price: 2000000 });
  });

  it("keys of one tenant cannot be revoked by another", async () => {
    const bKeys = await app.graphql<{ apiKeys: { prefix: string }[] }>(keyB, "{ apiKeys { prefix } }");
    const prefix = bKeys.body.data!.apiKeys[0]!.prefix;
    const attempt = await app.graphql(keyA, `mutation($p: String!) { revokeApiKey(prefix: $p) { prefix } }`, {
      p: prefix,
    });
    assert.equal(attempt.body.errors?.[0]?.extensions?.code, "NOT_FOUND");
    const still = await app.graphql(keyB, "{ viewer { tenant { name } } }");
    assert.equal(still.status, 200);
  });

  it("a read-only key cannot write", async () => {
    const { key } = await app.newTenant("reader", ["read"]);
    const result = await app.graphql(key, `mutation { createCampaign(input: { name: "x" }) { id } }`);
    assert.equal(result.body.errors?.[0]?.extensions?.code, "FORBIDDEN");
  });
});

describe("campaign API behaviour", () => {
  let app: InProcessApp;
  let key: string;

  before(async () => {
    app = await startInProcessApp();
    key = (await app.newTenant("pager")).key;
  });
  after(async () => {
    await app.close();
  });

  it("pages through campaigns with cursors, newest first, without gaps or repeats", async () => {
    for (let i = 0; i < 7; i++)
      await app.graphql(key, `mutation($n: String!) { createCampaign(input: { name: $n }) { id } }`, {
        n: `c${i}`,
      });
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page: {
        body: {
          data?: {
            campaigns: {
              edges: { node: { name: string } }[];
              pageInfo: { hasNextPage: boolean; endCursor: string | null };
            };
          };
        };
      } = await app.graphql(
        key,
        `query($after: String) { campaigns(first: 3, after: $after) { edges { node { name } } pageInfo { hasNextPage endCursor } } }`,
        { after },
      );
      const connection = page.body.data!.campaigns;
      seen.push(...connection.edges.map((edge) => edge.node.name));
      if (!connection.pageInfo.hasNextPage) break;
      after = connection.pageInfo.endCursor;
    }
    assert.deepEqual(seen, ["c6", "c5", "c4", "c3", "c2", "c1", "c0"]);
  });

  it("caps first at 100 with BAD_USER_INPUT and rejects bad cursors", async () => {
    const big = await app.graphql(key, "{ campaigns(first: 99999999) { edges { cursor } } }");
    assert.equal(big.body.errors?.[0]?.extensions?.code, "BAD_USER_INPUT");
    const badCursor = await app.graphql(key, `{ campaigns(after: "nope") { edges { cursor } } }`);
    assert.equal(badCursor.body.errors?.[0]?.extensions?.code, "BAD_USER_INPUT");
  });

  it("validates input with a clear BAD_USER_INPUT", async () => {
    const result = await app.graphql(
      key,
      `mutation { createCampaign(input: { name: "x", bedrooms: -1, brand: { primaryColor: "red" } }) { id } }`,
    );
    assert.equal(result.body.errors?.[0]?.extensions?.code, "BAD_USER_INPUT");
  });

  it("updates only the fields given and merges the brand", async () => {
    const created = await app.graphql<{ createCampaign: { id: string } }>(
      key,
      `mutation { createCampaign(input: { name: "u", address: "1 Main St", brand: { primaryColor: "#112233", tone: "calm" } }) { id } }`,
    );
    const id = created.body.data!.createCampaign.id;
    const updated = await app.graphql<{ updateCampaign: Record<string, unknown> }>(
      key,
      `mutation($id: ID!) { updateCampaign(id: $id, input: { bedrooms: 3, brand: { tone: "bold" } }) { name address bedrooms brand { primaryColor tone } } }`,
      { id },
    );
    assert.deepEqual(updated.body.data!.updateCampaign, {
      name: "u",
      address: "1 Main St",
      bedrooms: 3,
      brand: { primaryColor: "#112233", tone: "bold" },
    });
    const deleted = await app.graphql<{ deleteCampaign: boolean }>(
      key,
      `mutation($id: ID!) { deleteCampaign(id: $id) }`,
      { id },
    );
    assert.equal(deleted.body.data!.deleteCampaign, true);
  });
});
