import { createHash, timingSafeEqual } from "node:crypto";
import type { ApolloServerPlugin } from "@apollo/server";
import type { FastifyInstance } from "fastify";
import type { Services } from "../container.js";
import type { GraphQLContext } from "../resolvers/context.js";
import { UNAUTHENTICATED_REST_BODY } from "./errors.js";

/** Compares digests, so neither the token's length nor its bytes leak through timing. */
function sameToken(given: string, expected: string): boolean {
  const digest = (value: string) => createHash("sha256").update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * `GET /metrics`: Prometheus text format. With METRICS_TOKEN set, only `Authorization: Bearer
 * <token>` gets it (401 otherwise); unset, the endpoint is open (keep it on a private network).
 * Every request's duration is observed here too, by its route pattern (bounded label values).
 */
export async function registerMetricsRoutes(
  app: FastifyInstance,
  deps: { services: Services },
): Promise<void> {
  const { metrics, config } = deps.services;
  app.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions.url ?? "unmatched";
    metrics.httpRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
  });
  app.get("/metrics", async (request, reply) => {
    const token = config.metricsToken;
    if (token) {
      const header = request.headers.authorization ?? "";
      const given = header.startsWith("Bearer ") ? header.slice("Bearer ".length) : "";
      if (!sameToken(given, token)) {
        return await reply.code(401).type("application/json").send(UNAUTHENTICATED_REST_BODY);
      }
    }
    const { contentType, body } = await metrics.exposition();
    return await reply.type(contentType).header("cache-control", "no-store").send(body);
  });
}

/** Counts every GraphQL operation Apollo answers over HTTP, by type and whether it had errors. */
export function graphqlMetricsPlugin(metrics: Services["metrics"]): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ operation, errors }) {
          metrics.graphqlOperation(operation?.operation ?? "unknown", !errors?.length);
        },
      };
    },
  };
}
