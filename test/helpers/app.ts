import type { FastifyInstance } from "fastify";
import { type RunningApp, startApp } from "../../src/app.js";
import type { ProviderFactory, Services } from "../../src/container.js";
import { type Logger, silentLogger } from "../../src/logger.js";
import { testConfig } from "./config.js";
import { createTestDatabase } from "./db.js";
import { freePort } from "./server-process.js";

/** Also exported from here: tests start apps and build configs from one helper. */
export { testConfig };

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

/** The real app (HTTP stack, pg-boss, workers) on a fresh database cloned for this test file. */
export async function startInProcessApp(
  configOverrides: Record<string, string> = {},
  options: {
    /** `false`: the api role (no pg-boss workers). */
    workers?: boolean;
    /** Also serve on a loopback socket (PUBLIC_BASE_URL points there), so fake providers can fetch our signed URLs. */
    listen?: boolean;
    providers?: ProviderFactory;
    /** Where the app logs (default: nowhere). */
    logger?: Logger;
  } = {},
): Promise<InProcessApp> {
  // A listening app is also its own PUBLIC_BASE_URL, so providers are handed signed URLs to it
  // (as in a deployment), not inline data URIs.
  const port = options.listen ? await freePort() : undefined;
  const listening: Record<string, string> = port
    ? { PORT: String(port), HOST: "127.0.0.1", PUBLIC_BASE_URL: `http://127.0.0.1:${port}` }
    : {};
  const database = await createTestDatabase();
  let running: RunningApp;
  try {
    running = await startApp({
      config: testConfig({ ...listening, ...configOverrides }),
      logger: options.logger ?? silentLogger,
      role: options.workers === false ? "api" : "all",
      database: { url: database.url },
      providers: options.providers,
      listen: options.listen ?? false,
      poolSize: 5,
      bossPoolSize: 3,
    });
  } catch (error) {
    await database.drop();
    throw error;
  }
  const { services } = running;
  const app = running.http!.app;
  return {
    app,
    services,
    baseUrl: running.address,
    async newTenant(name, scopes = ["admin"]) {
      const created = await services.tenants.createKeyForTenant(name, "test key", scopes);
      return { key: created.key, tenantId: created.tenant.id };
    },
    async graphql(key, query, variables) {
      const response = await app.inject({
        method: "POST",
        url: "/graphql",
        headers: { "content-type": "application/json", ...(key ? { "x-api-key": key } : {}) },
        payload: JSON.stringify({ query, variables }),
      });
      return { status: response.statusCode, body: response.json() };
    },
    async close() {
      await running.stop({ graceful: false });
      await database.drop();
    },
  };
}
