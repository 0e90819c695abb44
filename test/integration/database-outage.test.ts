/**
 * GraphQL while the database cannot be reached (issue 10, defect 13): the app reaches PostgreSQL
 * through a TCP proxy the test can cut; a request then gets SERVICE_UNAVAILABLE with HTTP 503 and
 * `Retry-After`, not a masked internal error, and the service recovers when the database is back.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { type AddressInfo, createConnection, createServer, type Server, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { type RunningApp, startApp } from "../../src/app.js";
import { silentLogger } from "../../src/logger.js";
import { testConfig } from "../helpers/app.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";

/** A TCP proxy to PostgreSQL that can be cut (every connection dropped, new ones refused) and restored. */
class CuttableProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async open(): Promise<void> {
    if (this.server) return;
    this.server = createServer((client) => {
      const upstream = createConnection(this.target);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on("error", () => undefined);
        socket.once("close", () => this.sockets.delete(socket));
      }
      client.pipe(upstream).pipe(client);
      client.once("close", () => upstream.destroy());
      upstream.once("close", () => client.destroy());
    });
    this.server.listen(this.port, "127.0.0.1");
    await once(this.server, "listening");
    this.port = (this.server.address() as AddressInfo).port;
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    if (server) await new Promise((resolve) => server.close(resolve));
  }
}

describe("GraphQL during a database outage", () => {
  let database: TestDatabase;
  let proxy: CuttableProxy;
  let running: RunningApp;
  let cachedKey: string;
  let freshKey: string;

  const post = async (key: string, query: string) => {
    const response = await running.http!.app.inject({
      method: "POST",
      url: "/graphql",
      headers: { "content-type": "application/json", "x-api-key": key },
      payload: JSON.stringify({ query }),
    });
    return { status: response.statusCode, headers: response.headers, body: response.json() };
  };

  before(async () => {
    database = await createTestDatabase();
    const url = new URL(database.url);
    proxy = new CuttableProxy({ host: url.hostname, port: Number(url.port || 5432) });
    await proxy.open();
    url.hostname = "127.0.0.1";
    url.port = String(proxy.port);
    running = await startApp({
      config: testConfig(),
      logger: silentLogger,
      role: "api",
      database: { url: url.toString() },
      listen: false,
      poolSize: 3,
      bossPoolSize: 2,
    });
    const tenants = running.services.tenants;
    cachedKey = (await tenants.createKeyForTenant("outage", "cached", ["admin"])).key;
    freshKey = (await tenants.createKeyForTenant("outage-2", "fresh", ["admin"])).key;
    assert.equal((await post(cachedKey, "{ viewer { tenant { name } } }")).status, 200);
  });
  after(async () => {
    // Open again if a failed assertion left it cut, so the app can stop cleanly.
    await proxy?.open();
    await running?.stop({ graceful: false });
    await proxy?.cut();
    await database?.drop();
  });

  it("answers 503 SERVICE_UNAVAILABLE with Retry-After, then recovers", async () => {
    await proxy.cut();
    // A key verified lately gets past the guard; the resolver's read fails.
    const read = await post(cachedKey, "{ campaigns { edges { cursor } } }");
    assert.equal(read.status, 503, JSON.stringify(read.body));
    assert.equal(read.headers["retry-after"], "5");
    assert.equal(read.body.errors[0].extensions.code, "SERVICE_UNAVAILABLE");
    assert.doesNotMatch(JSON.stringify(read.body), /ECONNREFUSED|Connection terminated|127\.0\.0\.1/);
    // A key never seen needs the database to be verified.
    const auth = await post(freshKey, "{ viewer { tenant { name } } }");
    assert.equal(auth.status, 503, JSON.stringify(auth.body));
    assert.equal(auth.headers["retry-after"], "5");
    assert.equal(auth.body.errors[0].extensions.code, "SERVICE_UNAVAILABLE");

    await proxy.open();
    const deadline = Date.now() + 30_000;
    let status = 0;
    while (status !== 200 && Date.now() < deadline) {
      status = (await post(freshKey, "{ campaigns { edges { cursor } } }")).status;
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.equal(status, 200, "recovered");
  });
});
