import type { FastifyInstance } from "fastify";
import { type Config, parseConfig } from "../../src/config.js";
import { createServices, type Services } from "../../src/container.js";
import { createHttpServer } from "../../src/http/server.js";
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
}

/** The real HTTP stack on a fresh database, driven with `inject` (no socket). */
export async function startInProcessApp(configOverrides: Record<string, string> = {}): Promise<InProcessApp> {
  const db = await openTestDataSource();
  const config = testConfig(configOverrides);
  const services = createServices({ config, logger: silentLogger, dataSource: db.dataSource });
  const http = await createHttpServer({ services, schema: await buildSchema() });
  await http.app.ready();
  return {
    app: http.app,
    services,
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
      await db.close();
    },
  };
}
