import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { ApolloServerPluginLandingPageLocalDefault } from "@apollo/server/plugin/landingPage/default";
import { fastifyApolloDrainPlugin, fastifyApolloHandler } from "@as-integrations/fastify";
import fastifyWebsocket from "@fastify/websocket";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { GraphQLSchema } from "graphql";
import type { Services } from "../container.js";
import { isAppError } from "../errors.js";
import type { GraphQLContext } from "../resolvers/context.js";
import { createLoaders } from "../resolvers/loaders.js";
import type { Principal } from "../services/api-key.service.js";
import { presentedApiKey } from "./auth.js";
import {
  formatGraphQLError,
  restError,
  UNAUTHENTICATED_GRAPHQL_BODY,
  UNAUTHENTICATED_REST_BODY,
} from "./errors.js";
import { graphqlMetricsPlugin } from "./metrics.routes.js";
import { MAX_QUERY_TOKENS, queryLimitRules } from "./query-limits.js";
import type { RateLimiter } from "./rate-limiter.js";
import { currentRequestId } from "./request-context.js";
import { graphQLWebSocketHandler } from "./websocket.js";

declare module "fastify" {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** Authenticates a request by API key; replies 401 (one body for every reason) or 429. */
export function apiKeyGuard(services: Services, limiter: RateLimiter, format: "graphql" | "rest") {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    try {
      request.principal = await services.apiKeys.authenticate(presentedApiKey(request.headers));
    } catch (error) {
      if (!isAppError(error) || error.code !== "UNAUTHENTICATED") throw error;
      const body = format === "graphql" ? UNAUTHENTICATED_GRAPHQL_BODY : UNAUTHENTICATED_REST_BODY;
      await reply
        .code(401)
        .header("content-type", "application/json; charset=utf-8")
        .header("www-authenticate", "Bearer")
        .send(body);
      return reply;
    }
    const wait = limiter.take(request.principal.apiKeyId);
    if (wait > 0) {
      const body =
        format === "graphql"
          ? JSON.stringify({
              errors: [
                {
                  message: "Rate limit exceeded",
                  extensions: { code: "RATE_LIMITED", retryAfterSeconds: wait },
                },
              ],
            })
          : JSON.stringify(restError("RATE_LIMITED", "Rate limit exceeded", { retryAfterSeconds: wait }));
      await reply
        .code(429)
        .header("retry-after", String(wait))
        .header("content-type", "application/json; charset=utf-8")
        .send(body);
      return reply;
    }
  };
}

export async function registerGraphQL(
  app: FastifyInstance,
  deps: { services: Services; schema: GraphQLSchema; limiter: RateLimiter },
): Promise<ApolloServer<GraphQLContext>> {
  const { services, schema, limiter } = deps;
  const production = services.config.isProduction;
  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    csrfPrevention: true,
    // Shutdown is ours (src/main.ts): Apollo must not re-raise the signal.
    stopOnTerminationSignals: false,
    introspection: !production,
    allowBatchedHttpRequests: false,
    hideSchemaDetailsFromClientErrors: production,
    includeStacktraceInErrorResponses: false,
    parseOptions: { maxTokens: MAX_QUERY_TOKENS },
    validationRules: queryLimitRules(),
    formatError: (formatted, error) =>
      formatGraphQLError(formatted, error, {
        requestId: currentRequestId(),
        onInternal: (internal) =>
          services.logger.error(
            { err: internal, requestId: currentRequestId() },
            "internal error in GraphQL",
          ),
      }),
    plugins: [
      fastifyApolloDrainPlugin(app),
      graphqlMetricsPlugin(services.metrics),
      production
        ? ApolloServerPluginLandingPageDisabled()
        : ApolloServerPluginLandingPageLocalDefault({ embed: true }),
    ],
  });
  await apollo.start();

  const guard = apiKeyGuard(services, limiter, "graphql");
  await app.register(async (scope) => {
    // Apollo decides about every body type itself (so a form POST meets its CSRF check, 400).
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", { parseAs: "string", bodyLimit: 200 * 1024 }, (request, body, done) => {
      const type = request.headers["content-type"] ?? "";
      if (
        /^application\/(graphql-response\+)?json/i.test(type) &&
        typeof body === "string" &&
        body.length > 0
      ) {
        try {
          done(null, JSON.parse(body));
        } catch {
          const error = new Error("Body is not valid JSON") as Error & { statusCode: number };
          error.statusCode = 400;
          done(error, undefined);
        }
        return;
      }
      done(null, body);
    });
    scope.addHook("preHandler", async (request, reply) => {
      // A WebSocket upgrade authenticates in `connection_init` (src/http/websocket.ts).
      if (request.ws) return;
      // The landing page (a browser GET for HTML) needs no key; everything else does.
      const wantsLandingPage =
        request.method === "GET" && !production && String(request.headers.accept ?? "").includes("text/html");
      if (!wantsLandingPage) return await guard(request, reply);
    });
    const handler = fastifyApolloHandler(apollo, {
      context: async (request): Promise<GraphQLContext> => {
        const principal = request.principal!;
        return {
          requestId: request.id,
          principal,
          services,
          loaders: createLoaders(services, principal.tenantId),
          logger: services.logger.child({ requestId: request.id, tenantId: principal.tenantId }),
        };
      },
    });
    // GraphQL over WebSocket shares the path: GET with an upgrade goes to graphql-ws, plain GET to Apollo.
    const sockets = graphQLWebSocketHandler({ services, schema });
    scope.addHook("onClose", async () => {
      sockets.close();
      await services.jobEvents.stop();
    });
    await scope.register(fastifyWebsocket, {
      options: { maxPayload: 64 * 1024 },
    });
    scope.route({ method: ["POST", "OPTIONS"], url: "/graphql", handler });
    scope.route({ method: "GET", url: "/graphql", handler, wsHandler: sockets.handler });
  });
  return apollo;
}
