import { type AddressInfo, createServer as createNetServer } from "node:net";
import type { FastifyInstance } from "fastify";
import { type Config, parseConfig } from "../../src/config.js";
import { createServices, type Services } from "../../src/container.js";
import { createHttpServer } from "../../src/http/server.js";
import { createBoss } from "../../src/jobs/boss.js";
import { jobHandlers } from "../../src/jobs/handlers.js";
import { createQueues } from "../../src/jobs/queues.js";
import { startWorkers } from "../../src/jobs/worker.js";
import { silentLogger } from "../../src/logger.js";
import { buildSchema } from "../../src/schema/build-schema.js";
import { openTestDataSource } from "./db.js";

/** Test configuration: no environment read, a fixed test secret, overridable settings. */
export function testConfig(overrides: Record<string, string> = {}): Config {
  return parseConfig(
    { NODE_ENV: "test", LOG_LEVEL: "silent", ...overrides },
    { secret: () => "test-secret-".padEnd(48, "x") },
  );
}

export interface InProcessApp {
  app: FastifyInstance;
  services: Services;
  /** Creates a tenant with an admin key; returns the key. */
  newTenant(
    name: string,
    scopes?: ("read" | "write" | "admin")[],
  ): Promise<{ key: string; tenantId: string }>;
  graphql<T = Record<string, unknown>>(
    key: string | undefined,
    query: string,
    variables?: Record<string, unknown>,
  ): Promise<{
    status: number;
    body: { data?: T; errors?: { message: string; extensions?: Record<string, unknown> }[] };
  }>;
  close(): Promise<void>;
  /** With `listen: true`: where the server listens (also its PUBLIC_BASE_URL). */
  baseUrl?: string;
}

/** A free loopback port (reserved and released; good enough for tests). */
export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The real HTTP stack on a fresh database, driven with `inject` (no socket). */
export async function startInProcessApp(
  configOverrides: Record<string, string> = {},
  /** `listen`: also serve on a real loopback socket (PUBLIC_BASE_URL points there), so fake providers can fetch our signed URLs. */
  options: { workers?: boolean; listen?: boolean } = {},
): Promise<InProcessApp> {
  let baseUrl: string | undefined;
  if (options.listen) {
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    configOverrides = { PUBLIC_BASE_URL: baseUrl, ...configOverrides, PORT: String(port), HOST: "127.0.0.1" };
  }
  const db = await openTestDataSource();
  const config = testConfig(configOverrides);
  const boss = createBoss({ url: db.database.url, applicationName: "propvid-test", max: 3 });
  await boss.start();
  await createQueues(boss);
  const services = createServices({ config, logger: silentLogger, dataSource: db.dataSource, boss });
  if (options.workers !== false) await startWorkers(boss, jobHandlers(services), silentLogger, config);
  const http = await createHttpServer({ services, schema: await buildSchema() });
  await http.app.ready();
  if (baseUrl) await http.app.listen({ port: Number(new URL(baseUrl).port), host: "127.0.0.1" });
  return {
    app: http.app,
    services,
    baseUrl,
    async newTenant(name, scopes = ["admin"]) {
      const created = await services.tenants.createKeyForTenant(name, "test key", scopes);
      return { key: created.key, tenantId: created.tenant.id };
    },
    async graphql(key, query, variables) {
      const response = await http.app.inject({
        method: "POST",
        url: "/graphql",
        headers: { "content-type": "application/json", ...(key ? { "x-api-key": key } : {}) },
        payload: JSON.stringify({ query, variables }),
      });
      return { status: response.statusCode, body: response.json() };
    },
    async close() {
      await http.close();
      await boss.stop({ graceful: false, timeout: 5_000 });
      await db.close();
    },
  };
}
