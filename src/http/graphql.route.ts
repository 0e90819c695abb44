import { ApolloServer, type ApolloServerPlugin } from "@apollo/server";
import { ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { fastifyApolloDrainPlugin, fastifyApolloHandler } from "@as-integrations/fastify";
import fastifyWebsocket from "@fastify/websocket";
import type { FastifyInstance } from "fastify";
import type { GraphQLSchema } from "graphql";
import { handleProtocols } from "graphql-ws";
import type { Services } from "../container.js";
import { AppError, isAppError } from "../errors.js";
import type { GraphQLContext } from "../resolvers/context.js";
import { createLoaders } from "../resolvers/loaders.js";
import { apiKeyGuard, sendRefusal } from "./auth.js";
import { formatGraphQLError, RETRY_AFTER_OUTAGE_SECONDS, refusalAsGraphQLError } from "./errors.js";
import { graphqlMetricsPlugin } from "./metrics.routes.js";
import { MAX_QUERY_TOKENS, operationRules } from "./query-limits.js";
import { currentRequestId } from "./request-context.js";
import type { RequestGuard } from "./request-guard.js";
import { graphQLWebSocketHandler } from "./websocket.js";

/**
 * The request guard's operation checks as an Apollo plugin (the WebSocket transport calls the
 * same `checkOperation`), and the HTTP side of what errors mean: a refusal before execution
 * carries its status and `Retry-After`; an outage met while executing answers 503; refused
 * requests are logged at info (internal errors are logged at error where they are masked).
 */
function requestGuardPlugin(guard: RequestGuard): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ contextValue, document, operation, request, schema }) {
          // Apollo has already refused a document without the operation asked for.
          if (!operation) return;
          // A subscription is a stream of events, which the WebSocket transport carries; over HTTP
          // it would be executed once, without an event, and fail inside the resolver.
          if (operation.operation === "subscription")
            throw refusalAsGraphQLError(
              new AppError(
                "BAD_USER_INPUT",
                "Subscriptions run over WebSocket (graphql-ws, subprotocol graphql-transport-ws) at /graphql, not over HTTP",
              ),
            );
          try {
            guard.checkOperation({
              principal: contextValue.principal,
              schema,
              document,
              operation,
              variables: request.variables,
              charged: 1,
            });
          } catch (error) {
            throw isAppError(error) ? refusalAsGraphQLError(error) : error;
          }
        },
        async willSendResponse({ response, contextValue }) {
          if (response.body.kind !== "single") return;
          const { data, errors } = response.body.singleResult;
          if (!errors?.length) return;
          const codes = [...new Set(errors.map((error) => String(error.extensions?.code)))];
          if (codes.includes("SERVICE_UNAVAILABLE")) {
            response.http.status = 503;
            response.http.headers.set("retry-after", String(RETRY_AFTER_OUTAGE_SECONDS));
          }
          if (data === undefined && !codes.includes("INTERNAL_SERVER_ERROR"))
            contextValue.logger.info({ codes, message: errors[0]!.message }, "GraphQL request refused");
        },
      };
    },
  };
}

export async function registerGraphQL(
  app: FastifyInstance,
  deps: { services: Services; schema: GraphQLSchema; guard: RequestGuard },
): Promise<ApolloServer<GraphQLContext>> {
  const { services, schema, guard } = deps;
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
    validationRules: operationRules({ introspection: !production }),
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
      requestGuardPlugin(guard),
      fastifyApolloDrainPlugin(app),
      graphqlMetricsPlugin(services.metrics),
      // Apollo's landing page loads its code from a CDN; a browser goes to the bundled /graphiql instead.
      ApolloServerPluginLandingPageDisabled(),
    ],
  });
  await apollo.start();

  const authenticate = apiKeyGuard(guard, "graphql");
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
      // A WebSocket upgrade authenticates in `connection_init` (src/http/websocket.ts); connects
      // are limited per address here, before the upgrade (a refusal is a plain HTTP 429).
      if (request.ws) {
        try {
          guard.admitConnect(request.ip);
        } catch (error) {
          if (!isAppError(error)) throw error;
          await sendRefusal(reply, error, "graphql");
          return reply;
        }
        return;
      }
      // A browser opening /graphql (a GET for HTML) is sent to GraphiQL, outside production.
      const wantsIde =
        request.method === "GET" && !production && String(request.headers.accept ?? "").includes("text/html");
      if (wantsIde) return await reply.redirect("/graphiql", 302);
      return await authenticate(request, reply);
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
    const sockets = graphQLWebSocketHandler({ services, schema, guard });
    scope.addHook("onClose", async () => {
      sockets.close();
      await services.jobEvents.stop();
    });
    await scope.register(fastifyWebsocket, {
      options: { maxPayload: 64 * 1024, handleProtocols },
    });
    scope.route({ method: ["POST", "OPTIONS"], url: "/graphql", handler });
    scope.route({ method: "GET", url: "/graphql", handler, wsHandler: sockets.handler });
  });
  return apollo;
}
