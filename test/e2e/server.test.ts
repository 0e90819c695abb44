import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { buildClientSchema, getIntrospectionQuery, lexicographicSortSchema, printSchema } from "graphql";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { PROJECT_ROOT } from "../helpers/fixtures.js";
import { childEnv, gql, runCli, type ServerProcess, startServerProcess } from "../helpers/server-process.js";

/** CPU time (user + system) the server process has used, in ms (Linux: /proc, 10 ms ticks). */
function serverCpuMs(server: ServerProcess): number {
  const fields = readFileSync(`/proc/${server.child.pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  // utime and stime are fields 14 and 15 of the line, 12 and 13 after "pid (comm) ".
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** The 99th percentile of 200 sequential `GET /healthz`, in ms. */
async function healthzP99(url: string): Promise<number> {
  const latencies: number[] = [];
  for (let i = 0; i < 200; i++) {
    const started = performance.now();
    const health = await fetch(`${url}/healthz`);
    await health.arrayBuffer();
    latencies.push(performance.now() - started);
    assert.equal(health.status, 200);
  }
  latencies.sort((a, b) => a - b);
  return latencies[Math.ceil(latencies.length * 0.99) - 1]!;
}

describe("the real server over HTTP (DATABASE_URL)", () => {
  let database: TestDatabase;
  let server: ServerProcess;
  let env: NodeJS.ProcessEnv;
  let key: string;
  let dataDir: string;

  before(async () => {
    database = await createTestDatabase();
    dataDir = mkdtempSync(path.join(os.tmpdir(), "propvid-e2e-"));
    env = childEnv({ DATABASE_URL: database.url, PROPVID_DATA_DIR: dataDir });
    server = await startServerProcess(env);
    const created = await runCli(["keys", "create", "--tenant", "e2e"], env);
    assert.equal(created.code, 0, created.stderr);
    key = created.stdout.trim();
  });
  after(async () => {
    await server?.stop();
    await database?.drop();
    // the data dir holds the admin key and the signing secret: nothing of it stays behind
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("prints only the key on stdout for `keys create`", () => {
    assert.match(key, /^pv_[0-9a-f]{10}_[A-Za-z0-9_-]{43}$/);
  });

  it("answers a query with the key (X-API-Key and Bearer)", async () => {
    const viaHeader = await gql<{ viewer: { tenant: { name: string } } }>(
      server.url,
      key,
      "{ viewer { tenant { name } } }",
    );
    assert.equal(viaHeader.body.data?.viewer.tenant.name, "e2e");
    const response = await fetch(`${server.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
      body: JSON.stringify({ query: "{ viewer { apiKey { prefix scopes } } }" }),
    });
    assert.equal(response.status, 200);
  });

  it("answers 401 UNAUTHENTICATED with one body for missing, malformed, unknown and revoked keys", async () => {
    const revokedKey = (await runCli(["keys", "create", "--tenant", "e2e"], env)).stdout.trim();
    const revoked = await runCli(["keys", "revoke", revokedKey.slice(3, 13)], env);
    assert.equal(revoked.code, 0, revoked.stderr);
    const bodies = new Set<string>();
    for (const presented of [
      undefined,
      "garbage",
      `pv_0123456789_${"A".repeat(43)}`,
      revokedKey,
      `${key.slice(0, -1)}X`,
    ]) {
      const response = await fetch(`${server.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(presented ? { "x-api-key": presented } : {}) },
        body: JSON.stringify({ query: "{ viewer { tenant { name } } }" }),
      });
      assert.equal(response.status, 401);
      bodies.add(await response.text());
    }
    assert.equal(bodies.size, 1);
    assert.match([...bodies][0]!, /UNAUTHENTICATED/);
  });

  it("rejects CSRF-shaped requests: text/plain and form posts without a preflight header", async () => {
    for (const contentType of [
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
    ]) {
      const response = await fetch(`${server.url}/graphql`, {
        method: "POST",
        headers: { "content-type": contentType, "x-api-key": key },
        body: JSON.stringify({ query: "{ viewer { tenant { name } } }" }),
      });
      assert.equal(response.status, 400, contentType);
    }
    const getMutation = await fetch(
      `${server.url}/graphql?query=${encodeURIComponent('mutation { createCampaign(input: {name: "x"}) { id } }')}`,
      {
        headers: { "x-api-key": key, "apollo-require-preflight": "1" },
      },
    );
    assert.equal(getMutation.status, 405);
  });

  it("pages campaigns over HTTP and caps first at 100", async () => {
    for (let i = 0; i < 3; i++)
      await gql(server.url, key, `mutation { createCampaign(input: { name: "p${i}" }) { id } }`);
    const first = await gql<{
      campaigns: {
        edges: { node: { name: string } }[];
        pageInfo: { endCursor: string; hasNextPage: boolean };
      };
    }>(
      server.url,
      key,
      "{ campaigns(first: 2) { edges { node { name } } pageInfo { endCursor hasNextPage } } }",
    );
    assert.deepEqual(
      first.body.data?.campaigns.edges.map((edge) => edge.node.name),
      ["p2", "p1"],
    );
    assert.equal(first.body.data?.campaigns.pageInfo.hasNextPage, true);
    const tooMany = await gql(server.url, key, "{ campaigns(first: 101) { edges { cursor } } }");
    assert.equal(tooMany.body.errors?.[0]?.extensions?.code, "BAD_USER_INPUT");
  });

  it("rejects batched requests and oversized queries before execution", async () => {
    const batch = await fetch(`${server.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": key },
      body: JSON.stringify([
        { query: "{ viewer { tenant { name } } }" },
        { query: "{ viewer { tenant { name } } }" },
      ]),
    });
    assert.equal(batch.status, 400);
    const huge = await gql(server.url, key, `{ ${"viewer { tenant { name } } ".repeat(3000)} }`);
    assert.equal(huge.status, 400);
  });

  it("refuses the alias × page bomb before execution, and cheaply enough that /healthz stays fast", async (t) => {
    // 30 aliases × 100 campaigns × 100 photos: valid (30 aliases, depth 7), and costed at ~600,000.
    const bomb = `{ ${Array.from(
      { length: 30 },
      (_, i) =>
        `c${i}: campaigns(first: 100) { edges { node { id assets(first: 100) { edges { node { id } } } } } }`,
    ).join(" ")} }`;
    const attacker = await runCli(["keys", "create", "--tenant", "e2e-attacker"], env);
    assert.equal(attacker.code, 0, attacker.stderr);
    const attackKey = attacker.stdout.trim();
    // /healthz is timed in quiet and attacked windows (three of each, alternating). On a machine
    // shared with other work its p99 is the scheduler's (tens to hundreds of ms at a load of 20
    // on 2 cores), so what is asserted is what the attack costs the server: its CPU time per
    // attack request beyond a quiet window's. With one attack request in flight, /healthz waits
    // behind at most one such request, so on a machine of its own the p99 stays under 50 ms.
    const codes = new Map<string, number>();
    const send = async () => {
      const response = await gql(server.url, attackKey, bomb);
      assert.equal(response.body.data, undefined, "nothing executed");
      const code = String(response.body.errors?.[0]?.extensions?.code);
      codes.set(code, (codes.get(code) ?? 0) + 1);
    };
    const quiet = { p99: [] as number[], cpuMs: 0 };
    const attacked = { p99: [] as number[], cpuMs: 0, requests: 0 };
    const started = performance.now();
    for (let round = 0; round < 3; round++) {
      let cpu = serverCpuMs(server);
      quiet.p99.push(await healthzP99(server.url));
      quiet.cpuMs += serverCpuMs(server) - cpu;
      let attacking = true;
      const before = [...codes.values()].reduce((a, b) => a + b, 0);
      cpu = serverCpuMs(server);
      // One key sending it again and again, each time as soon as the last was answered.
      const attack = (async () => {
        while (attacking) await send();
      })();
      attacked.p99.push(await healthzP99(server.url));
      attacking = false;
      await attack;
      attacked.cpuMs += serverCpuMs(server) - cpu;
      attacked.requests += [...codes.values()].reduce((a, b) => a + b, 0) - before;
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[1]!;
    const cpuPerAttack = Math.max(0, attacked.cpuMs - quiet.cpuMs) / attacked.requests;
    const refused = Object.fromEntries(codes);
    const figures = `/healthz p99 ${median(attacked.p99).toFixed(1)} ms attacked, ${median(quiet.p99).toFixed(1)} ms quiet; server CPU ${cpuPerAttack.toFixed(2)} ms per attack request; ${JSON.stringify(refused)}`;
    t.diagnostic(figures);
    // Ten refusals for cost spend the key's budget (5,000 of 50,000 each); then it is refused
    // before parsing, but for one bomb per 5,000 units the budget refills (833 a second).
    const seconds = (performance.now() - started) / 1000;
    const costRefusals = codes.get("COST_LIMIT_EXCEEDED") ?? 0;
    assert.ok(costRefusals >= 10 && costRefusals <= 11 + Math.ceil((seconds * 50_000) / 60 / 5_000), figures);
    assert.deepEqual(
      [...codes.keys()].filter((code) => code !== "COST_LIMIT_EXCEEDED" && code !== "RATE_LIMITED"),
      [],
      figures,
    );
    // 5 ms of server CPU per attack request, ten times under the 50 ms /healthz may wait for it
    // (room for CPU-time noise on a shared machine); a bomb that is parsed, validated and costed
    // each time, let alone executed, takes several times that.
    assert.ok(cpuPerAttack < 5, figures);
  });

  it("serves a schema identical to the committed schema.graphql", async () => {
    const result = await gql<Record<string, unknown>>(
      server.url,
      key,
      getIntrospectionQuery({ specifiedByUrl: true, inputValueDeprecation: true }),
    );
    const served = printSchema(lexicographicSortSchema(buildClientSchema(result.body.data as never)));
    const committed = readFileSync(path.join(PROJECT_ROOT, "schema.graphql"), "utf8");
    assert.equal(`${served}\n`, committed);
  });

  it("reports health and readiness", async () => {
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    assert.deepEqual(await (await fetch(`${server.url}/readyz`)).json(), { status: "ready" });
  });

  it("never logs the key", () => {
    assert.equal(server.output().includes(key), false);
    assert.equal(server.output().includes(key.slice(14)), false);
  });

  it("shuts down gracefully on SIGTERM", async () => {
    assert.equal(await server.stop("SIGTERM"), 0);
    assert.match(server.output(), /"msg":"stopped"/);
  });
});

describe("npm start on a fresh machine: embedded PostgreSQL under the data dir", () => {
  let dataDir: string;

  before(() => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), "propvid-embedded-"));
    chmodSync(dataDir, 0o755);
  });
  after(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("starts, writes the admin key to a 0600 file, keeps data across restarts, and lets `keys` attach while running", async () => {
    const env = childEnv({ PROPVID_DATA_DIR: dataDir });
    const first = await startServerProcess(env);
    try {
      // stdout is a pipe here, i.e. a log: the key goes to a 0600 file, and the log says where (ABUSE 47).
      const keyFile = path.join(dataDir, "admin-key");
      assert.match(
        first.output(),
        /"file":"[^"]*admin-key"[^\n]*"msg":"created a default tenant and an admin API key/,
      );
      assert.equal(statSync(keyFile).mode & 0o777, 0o600);
      const adminKey = readFileSync(keyFile, "utf8").trim();
      assert.match(adminKey, /^pv_[0-9a-f]{10}_[A-Za-z0-9_-]{43}$/);
      assert.equal(first.output().includes(adminKey.slice(14)), false, "the key is not in the output");
      const created = await gql<{ createCampaign: { id: string } }>(
        first.url,
        adminKey,
        `mutation { createCampaign(input: { name: "persisted" }) { id } }`,
      );
      assert.ok(created.body.data?.createCampaign.id);
      const cliKey = await runCli(["keys", "create", "--tenant", "second"], env);
      assert.equal(cliKey.code, 0, cliKey.stderr);
      const viewer = await gql<{ viewer: { tenant: { name: string } } }>(
        first.url,
        cliKey.stdout.trim(),
        "{ viewer { tenant { name } } }",
      );
      assert.equal(viewer.body.data?.viewer.tenant.name, "second");
      assert.equal(await first.stop("SIGINT"), 0);

      const second = await startServerProcess(env);
      try {
        assert.equal(second.output().includes("admin API key"), false, "no second admin key");
        assert.equal(readFileSync(keyFile, "utf8").trim(), adminKey);
        const list = await gql<{ campaigns: { edges: { node: { name: string } }[] } }>(
          second.url,
          adminKey,
          "{ campaigns { edges { node { name } } } }",
        );
        assert.deepEqual(
          list.body.data?.campaigns.edges.map((edge) => edge.node.name),
          ["persisted"],
        );
      } finally {
        assert.equal(await second.stop("SIGTERM"), 0);
      }
    } finally {
      await first.stop("SIGKILL");
    }
  });
});
