/**
 * The request guard (src/http/request-guard.ts) through the real stack, over HTTP and over
 * WebSocket alike: cost limit and budget, per-field mutation counting, text PostgreSQL cannot
 * store, variable types, validation errors that name the field and the rule, subscription caps,
 * connects per address, ambiguous credentials and CORS (issue 10, ABUSE-CASES 40–49).
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import { createLogger } from "../../src/logger.js";
import { type InProcessApp, startInProcessApp } from "../helpers/app.js";

/** 30 aliases × 100 campaigns × 100 photos each. */
const BOMB = `{ ${Array.from(
  { length: 30 },
  (_, i) =>
    `c${i}: campaigns(first: 100) { edges { node { id assets(first: 100) { edges { node { id } } } } } }`,
).join(" ")} }`;

const ACTIVITY = "subscription($id: ID!) { campaignActivity(campaignId: $id) { sequence } }";

interface Message {
  id?: string;
  type: string;
  payload?: unknown;
}
type GraphQLErrorJson = { message: string; extensions?: Record<string, unknown> };

/** A graphql-transport-ws socket past its `connection_ack`, with the messages it got by operation id. */
class Session {
  readonly messages: Message[] = [];
  private waiters: (() => void)[] = [];
  private constructor(readonly socket: WebSocket) {
    socket.on("message", (data: Buffer) => {
      this.messages.push(JSON.parse(data.toString()) as Message);
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  static async open(url: string, apiKey: string): Promise<Session> {
    const socket = new WebSocket(url, "graphql-transport-ws");
    await once(socket, "open");
    const session = new Session(socket);
    socket.send(JSON.stringify({ type: "connection_init", payload: { apiKey } }));
    await session.until((messages) => messages.some((m) => m.type === "connection_ack"));
    return session;
  }

  send(id: string, query: string, variables?: Record<string, unknown>): void {
    this.socket.send(JSON.stringify({ id, type: "subscribe", payload: { query, variables } }));
  }

  /** The operation's `error` payload, or its `next` payloads once it completes. */
  async result(
    id: string,
  ): Promise<{ errors?: GraphQLErrorJson[]; next: { data?: unknown; errors?: GraphQLErrorJson[] }[] }> {
    await this.until((messages) =>
      messages.some((m) => m.id === id && (m.type === "error" || m.type === "complete")),
    );
    const mine = this.messages.filter((m) => m.id === id);
    const error = mine.find((m) => m.type === "error");
    return {
      errors: error ? (error.payload as GraphQLErrorJson[]) : undefined,
      next: mine.filter((m) => m.type === "next").map((m) => m.payload as { data?: unknown }),
    };
  }

  async until(check: (messages: Message[]) => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check(this.messages)) {
      if (Date.now() > deadline) throw new Error(`timed out; got ${JSON.stringify(this.messages)}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  get open(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  close(): void {
    this.socket.close();
  }
}

describe("the request guard over HTTP and WebSocket", () => {
  let app: InProcessApp;
  let wsUrl: string;
  let key: string;
  const sessions: Session[] = [];
  /** What the app logged, one parsed line each. */
  const logged: { level: number; msg: string; [field: string]: unknown }[] = [];
  const logger = createLogger({
    level: "info",
    destination: new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split("\n")) if (line) logged.push(JSON.parse(line));
        done();
      },
    }),
  });
  const session = async (apiKey = key) => {
    const opened = await Session.open(wsUrl, apiKey);
    sessions.push(opened);
    return opened;
  };

  before(async () => {
    app = await startInProcessApp(
      {
        WS_MAX_SUBSCRIPTIONS_PER_SOCKET: "2",
        WS_MAX_SUBSCRIPTIONS_PER_KEY: "3",
        WS_CONNECTS_PER_MINUTE: "30",
        CORS_ORIGINS: "https://app.example.com",
      },
      { workers: false, logger },
    );
    const address = await app.app.listen({ port: 0, host: "127.0.0.1" });
    wsUrl = `${address.replace(/^http/, "ws")}/graphql`;
    ({ key } = await app.newTenant("guarded"));
  });
  after(async () => {
    for (const each of sessions) each.close();
    await app?.close();
  });

  it("refuses the alias × page bomb before execution, with its cost, on both transports", async () => {
    const http = await app.graphql(key, BOMB);
    assert.equal(http.status, 400, JSON.stringify(http.body));
    assert.equal(http.body.data, undefined);
    const [error] = http.body.errors ?? [];
    assert.equal(error?.extensions?.code, "COST_LIMIT_EXCEEDED");
    const details = error?.extensions?.details as { cost: number; maxCost: number };
    assert.ok(details.cost > 500_000 && details.maxCost === 5_000, JSON.stringify(details));

    const ws = await session();
    ws.send("bomb", BOMB);
    const refused = await ws.result("bomb");
    assert.equal(refused.errors?.[0]?.extensions?.code, "COST_LIMIT_EXCEEDED");
    assert.deepEqual(refused.errors?.[0]?.extensions?.details, details);
    // The depth limit too (the same validation rules as Apollo's).
    const turns = 4; // 5 levels each: past the depth limit of 15
    const deepQuery = `{ campaigns { edges { node { ${"videoJobs { edges { node { campaign {".repeat(turns)} id ${"} } } }".repeat(turns)} } } } }`;
    ws.send("deep", deepQuery);
    const deep = await ws.result("deep");
    assert.equal(deep.errors?.[0]?.extensions?.code, "GRAPHQL_VALIDATION_FAILED");
    // Only that operation: the socket still answers.
    ws.send("ok", "{ viewer { tenant { name } } }");
    assert.deepEqual((await ws.result("ok")).next, [{ data: { viewer: { tenant: { name: "guarded" } } } }]);
  });

  it("answers a validation error in subscribe with an error for that operation only, no internals", async () => {
    const campaign = await app.graphql<{ createCampaign: { id: string } }>(
      key,
      'mutation { createCampaign(input: { name: "live" }) { id } }',
    );
    const ws = await session();
    const watching = app.services.jobEvents.watcherCount;
    ws.send("live", ACTIVITY, { id: campaign.body.data!.createCampaign.id });
    await ws.until(() => app.services.jobEvents.watcherCount === watching + 1);
    ws.send("bad", "subscription { campaignActivity(campaignId: 1) { nope } }");
    const bad = await ws.result("bad");
    assert.ok(bad.errors?.length, JSON.stringify(bad));
    assert.match(bad.errors![0]!.message, /nope|campaignId/);
    for (const error of bad.errors!) assert.equal(error.extensions?.code, "GRAPHQL_VALIDATION_FAILED");
    ws.send("syntax", "subscription {");
    const syntax = await ws.result("syntax");
    assert.equal(syntax.errors?.[0]?.extensions?.code, "GRAPHQL_PARSE_FAILED");
    ws.send("ok", "{ viewer { tenant { name } } }");
    assert.equal((await ws.result("ok")).next.length, 1);
    assert.ok(ws.open);
    assert.deepEqual(
      ws.messages.filter((m) => m.id === "live"),
      [],
      "the other subscription lives on",
    );
    assert.equal(app.services.jobEvents.watcherCount, watching + 1);
    ws.socket.send(JSON.stringify({ id: "live", type: "complete" }));
  });

  it("gives a variable of the wrong type BAD_USER_INPUT over both transports", async () => {
    const query = "query($n: Int) { campaigns(first: $n) { edges { cursor } } }";
    const http = await app.graphql(key, query, { n: "many" });
    assert.equal(http.status, 400);
    assert.equal(http.body.errors?.[0]?.extensions?.code, "BAD_USER_INPUT");
    const ws = await session();
    ws.send("v", query, { n: "many" });
    const refused = await ws.result("v");
    assert.equal(refused.errors?.[0]?.extensions?.code, "BAD_USER_INPUT");
    assert.equal(refused.errors?.[0]?.message, http.body.errors?.[0]?.message);
  });

  it("refuses a NUL in a variable or an argument with BAD_USER_INPUT 400, before any resolver", async () => {
    const before = await app.graphql<{ campaigns: { edges: unknown[] } }>(
      key,
      "{ campaigns { edges { cursor } } }",
    );
    const create = "mutation($title: String!) { createCampaign(input: { name: $title }) { id } }";
    const http = await app.graphql(key, create, { title: "Villa\u0000" });
    assert.equal(http.status, 400, JSON.stringify(http.body));
    assert.equal(http.body.errors?.[0]?.extensions?.code, "BAD_USER_INPUT");
    assert.match(http.body.errors![0]!.message, /\$title/);
    const literal = await app.graphql(
      key,
      'mutation { createCampaign(input: { name: "Villa\\u0000" }) { id } }',
    );
    assert.equal(literal.status, 400);
    assert.equal(literal.body.errors?.[0]?.extensions?.code, "BAD_USER_INPUT");
    const ws = await session();
    ws.send("nul", create, { title: "Villa\u0000" });
    assert.equal((await ws.result("nul")).errors?.[0]?.extensions?.code, "BAD_USER_INPUT");
    const refusals = logged.filter((line) => line.msg === "GraphQL request refused");
    assert.ok(refusals.length >= 2 && refusals.every((line) => line.level === 30), "logged at info");
    const after = await app.graphql<{ campaigns: { edges: unknown[] } }>(
      key,
      "{ campaigns { edges { cursor } } }",
    );
    assert.equal(
      after.body.data?.campaigns.edges.length,
      before.body.data?.campaigns.edges.length,
      "nothing created",
    );
  });

  it("names the field and the rule of a failed input validation", async () => {
    const response = await app.graphql(
      key,
      'mutation { createVideoJob(input: { campaignId: "6f1c1b8e-2d9a-4c51-9d1e-3b7f0e8a9c21", sceneCount: 99 }) { id } }',
    );
    const [error] = response.body.errors ?? [];
    assert.equal(error?.extensions?.code, "BAD_USER_INPUT", JSON.stringify(response.body));
    assert.match(error!.message, /sceneCount \(max\)/);
    const details = error!.extensions!.details as { problems: { field: string; rule: string }[] };
    const problems = details.problems;
    assert.deepEqual(
      problems.map(({ field, rule }) => ({ field, rule })),
      [{ field: "sceneCount", rule: "max" }],
    );
  });

  it("caps live subscriptions per socket and per key", async () => {
    const campaign = await app.graphql<{ createCampaign: { id: string } }>(
      key,
      'mutation { createCampaign(input: { name: "watched" }) { id } }',
    );
    const id = campaign.body.data!.createCampaign.id;
    const first = await session();
    first.send("a", ACTIVITY, { id });
    first.send("b", ACTIVITY, { id });
    first.send("c", ACTIVITY, { id });
    const third = await first.result("c");
    assert.equal(third.errors?.[0]?.extensions?.code, "RATE_LIMITED");
    assert.match(third.errors![0]!.message, /on this socket/);
    const second = await session();
    second.send("d", ACTIVITY, { id });
    second.send("e", ACTIVITY, { id });
    const overKey = await second.result("e");
    assert.match(overKey.errors?.[0]?.message ?? "", /for this API key/);
    // Completing one frees its place.
    first.socket.send(JSON.stringify({ id: "a", type: "complete" }));
    await new Promise((resolve) => setTimeout(resolve, 200));
    second.send("f", ACTIVITY, { id });
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(second.messages.filter((m) => m.id === "f").length, 0, "accepted: no error, still live");
  });

  it("refuses two different keys in X-API-Key and Authorization", async () => {
    const other = (await app.newTenant("other")).key;
    const withBearer = (bearer: string) =>
      app.app.inject({
        method: "POST",
        url: "/graphql",
        headers: { "content-type": "application/json", "x-api-key": key, authorization: `Bearer ${bearer}` },
        payload: JSON.stringify({ query: "{ viewer { tenant { name } } }" }),
      });
    const ambiguous = await withBearer(other);
    assert.equal(ambiguous.statusCode, 400);
    assert.equal(ambiguous.json().errors[0].extensions.code, "BAD_USER_INPUT");
    assert.equal((await withBearer(key)).statusCode, 200, "the same key twice is fine");
  });

  it("answers a CORS preflight from an allowed origin without a key, and gives others no access", async () => {
    const preflight = (origin: string) =>
      app.app.inject({
        method: "OPTIONS",
        url: "/graphql",
        headers: {
          origin,
          "access-control-request-method": "POST",
          "access-control-request-headers": "content-type,x-api-key",
        },
      });
    const allowed = await preflight("https://app.example.com");
    assert.equal(allowed.statusCode, 204);
    assert.equal(allowed.headers["access-control-allow-origin"], "https://app.example.com");
    assert.match(String(allowed.headers["access-control-allow-headers"]), /X-API-Key/i);
    assert.match(String(allowed.headers["access-control-allow-methods"]), /POST/);
    const other = await preflight("https://evil.example.net");
    assert.equal(other.headers["access-control-allow-origin"], undefined);
    const request = await app.app.inject({
      method: "POST",
      url: "/graphql",
      headers: { "content-type": "application/json", "x-api-key": key, origin: "https://app.example.com" },
      payload: JSON.stringify({ query: "{ viewer { tenant { name } } }" }),
    });
    assert.equal(request.statusCode, 200);
    assert.equal(request.headers["access-control-allow-origin"], "https://app.example.com");
  });

  it("logs a client's disconnect once per socket, at info, whatever it held", async () => {
    // A tenant of its own: the caps test may have left the main key at its subscription limit.
    const own = (await app.newTenant("disconnecting")).key;
    const campaign = await app.graphql<{ createCampaign: { id: string } }>(
      own,
      'mutation { createCampaign(input: { name: "mine" }) { id } }',
    );
    const watching = app.services.jobEvents.watcherCount;
    const ws = await session(own);
    for (const sub of ["1", "2"]) ws.send(sub, ACTIVITY, { id: campaign.body.data!.createCampaign.id });
    const deadline = Date.now() + 10_000;
    while (app.services.jobEvents.watcherCount < watching + 2 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    const from = logged.length;
    ws.socket.terminate();
    while (app.services.jobEvents.watcherCount > watching && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const lines = logged.slice(from);
    const closes = lines.filter((line) => line.msg === "GraphQL WebSocket closed");
    assert.equal(closes.length, 1, JSON.stringify(lines));
    assert.equal(closes[0]!.level, 30);
    assert.equal(closes[0]!.subscriptions, 2);
    assert.deepEqual(
      lines.filter((line) => line.level >= 40),
      [],
      "no warning or error for a disconnect",
    );
    assert.equal(app.services.jobEvents.watcherCount, watching, "its watchers are gone");
  });

  it("forgets a cached key at once when another process revokes it", async () => {
    const { key: revoked } = await app.newTenant("revoked elsewhere");
    assert.equal((await app.graphql(revoked, "{ viewer { tenant { name } } }")).status, 200);
    assert.ok(app.services.apiKeys.cached(revoked), "verified and cached");
    // As another process (or SQL by hand) would: the trigger announces it to every process.
    await app.services.dataSource.query("UPDATE api_key SET revoked_at = now() WHERE prefix = $1", [
      revoked.slice(3, 13),
    ]);
    const deadline = Date.now() + 5_000; // well within the cache's 10 s: the announcement, not the TTL
    while (app.services.apiKeys.cached(revoked) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(app.services.apiKeys.cached(revoked), undefined);
    assert.equal((await app.graphql(revoked, "{ viewer { tenant { name } } }")).status, 401);
  });

  it("limits WebSocket connects per address with a 429 before the upgrade", async () => {
    // 30 a minute (this file's setting); the sessions above took some of them. Last: it uses them up.
    let refusedWith: number | undefined;
    for (let i = 0; i < 31 && refusedWith === undefined; i++) {
      const socket = new WebSocket(wsUrl, "graphql-transport-ws");
      socket.on("error", () => undefined);
      const outcome = await Promise.race([
        once(socket, "open").then(() => undefined),
        once(socket, "unexpected-response").then(
          ([, response]) => (response as { statusCode: number }).statusCode,
        ),
      ]);
      if (outcome !== undefined) refusedWith = outcome;
      socket.terminate();
    }
    assert.equal(refusedWith, 429);
  });
});
