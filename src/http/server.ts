import { randomUUID } from "node:crypto";
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { GraphQLSchema } from "graphql";
import type { Services } from "../container.js";
import { migrationsApplied } from "../db/data-source.js";
import { AppError, isAppError } from "../errors.js";
import { registerCors } from "./cors.js";
import { registerDebugRoutes } from "./debug.routes.js";
import { restError, restErrorOf } from "./errors.js";
import { registerGraphQL } from "./graphql.route.js";
import { registerHlsRoutes } from "./hls.routes.js";
import { registerMediaRoutes } from "./media.routes.js";
import { registerMetricsRoutes } from "./metrics.routes.js";
import { requestContext } from "./request-context.js";
import { RequestGuard } from "./request-guard.js";
import { registerShareRoutes } from "./share.routes.js";
import { registerStaticRoutes } from "./static.routes.js";
import { registerUploadRoutes } from "./upload.routes.js";
import { UploadSlots } from "./upload-slots.js";
import { registerWebhookRoutes } from "./webhooks.routes.js";

const REQUEST_ID = /^[A-Za-z0-9._-]{8,128}$/;

export interface HttpServer {
  app: FastifyInstance;
  listen(): Promise<string>;
  close(): Promise<void>;
  /** Requests being answered right now (what a shutdown still waits for). */
  inFlight(): number;
}

/** The HTTP side: GraphQL at /graphql, the REST sidecar under /v1, health probes, the web console at /. */
export async function createHttpServer(deps: {
  services: Services;
  schema: GraphQLSchema;
}): Promise<HttpServer> {
  const { services } = deps;
  const { config, logger } = services;
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    genReqId: (request) => {
      const incoming = request.headers["x-request-id"];
      return typeof incoming === "string" && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
    forceCloseConnections: "idle",
    // Slow clients (ABUSE 42): the request head within headersTimeoutMs, no silence longer than
    // idleTimeoutMs (a half-sent body included; upload routes time their bodies themselves), the
    // whole request within requestTimeoutMs. Node checks the first and last every second.
    connectionTimeout: config.http.idleTimeoutMs,
    requestTimeout: config.http.requestTimeoutMs,
    http: {
      headersTimeout: config.http.headersTimeoutMs,
      requestTimeout: config.http.requestTimeoutMs,
      connectionsCheckingInterval: 1_000,
    },
  });

  // Requests not yet answered; a request that is aborted and then answered counts once.
  const inFlight = new Set<object>();
  app.addHook("onRequest", (request, _reply, done) => {
    inFlight.add(request);
    done();
  });
  app.addHook("onResponse", (request, _reply, done) => {
    inFlight.delete(request);
    done();
  });
  app.addHook("onRequestAbort", (request, done) => {
    inFlight.delete(request);
    done();
  });

  app.addHook("onRequest", (request, reply, done) => {
    void reply.header("x-request-id", request.id);
    requestContext.run({ requestId: request.id }, done);
  });

  app.setErrorHandler(async (error, request, reply) => {
    if (request.raw.destroyed && !reply.sent) {
      // The client went away mid-request (a dropped upload): nobody to answer, nothing wrong here.
      request.log.info({ err: error }, "client went away");
      return reply;
    }
    if (isAppError(error)) {
      const { status, body } = restErrorOf(error);
      // Refusals are the client's business: info, never error (ABUSE 46).
      if (status < 500) request.log.info({ code: error.code, message: error.message }, "request refused");
      const retryAfter = error.details?.retryAfterSeconds;
      if (typeof retryAfter === "number") void reply.header("retry-after", String(retryAfter));
      return await reply.code(status).send(body);
    }
    const status = (error as { statusCode?: number }).statusCode;
    if (status && status >= 400 && status < 500) {
      const code =
        status === 413 ? "PAYLOAD_TOO_LARGE" : status === 415 ? "UNSUPPORTED_MEDIA_TYPE" : "BAD_REQUEST";
      request.log.info({ code, message: (error as Error).message }, "request refused");
      return await reply.code(status).send(restError(code, (error as Error).message));
    }
    request.log.error({ err: error }, "unhandled error");
    return await reply
      .code(500)
      .send(restError("INTERNAL_SERVER_ERROR", "Internal server error", { requestId: request.id }));
  });

  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (_request, reply) => {
    try {
      await services.dataSource.query("SELECT 1");
      if (!(await migrationsApplied(services.dataSource)))
        throw new AppError("INTERNAL_SERVER_ERROR", "migrations pending");
      return { status: "ready" };
    } catch {
      return await reply.code(503).send({ status: "unavailable" });
    }
  });

  await registerMetricsRoutes(app, { services });
  await registerCors(app, config);
  const requestGuard = new RequestGuard({ apiKeys: services.apiKeys, config });
  await registerGraphQL(app, { services, schema: deps.schema, guard: requestGuard });
  await registerMediaRoutes(app, { services, requestGuard });
  await registerUploadRoutes(app, { services, requestGuard, slots: new UploadSlots(config.uploads) });
  await registerHlsRoutes(app, { services });
  await registerShareRoutes(app, { services });
  await registerWebhookRoutes(app, { services });
  if (!config.isProduction) await registerDebugRoutes(app, { services, requestGuard });
  await registerStaticRoutes(app, { production: config.isProduction, logger });

  return {
    app,
    async listen() {
      return await app.listen({ port: config.port, host: config.host });
    },
    async close() {
      await app.close();
    },
    inFlight: () => inFlight.size,
  };
}
