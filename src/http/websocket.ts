import { randomUUID } from "node:crypto";
import type { WebSocket, WebsocketHandler } from "@fastify/websocket";
import {
  createSourceEventStream,
  type ExecutionArgs,
  type ExecutionResult,
  execute,
  GraphQLError,
  type GraphQLSchema,
  parse,
  specifiedRules,
  validate,
} from "graphql";
import { CloseCode } from "graphql-ws";
import { makeHandler } from "graphql-ws/use/@fastify/websocket";
import type { Services } from "../container.js";
import { isAppError } from "../errors.js";
import { JobEventDelivery } from "../events/job-event-delivery.js";
import { createLoaders } from "../resolvers/loaders.js";
import { deliveryContext, type SubscriptionContext } from "../resolvers/subscription.resolver.js";
import type { Principal } from "../services/api-key.service.js";
import { formatGraphQLError } from "./errors.js";
import { MAX_QUERY_TOKENS, queryLimitRules } from "./query-limits.js";

/** Bytes a socket may have unsent before its subscriber counts as stalled and is dropped. */
export const MAX_SOCKET_BUFFER_BYTES = 1024 * 1024;
/** How often every open socket's key is re-checked (a key revoked in another process). */
export const KEY_CHECK_INTERVAL_MS = 5_000;
/** Close code for a subscriber that cannot keep up (graphql-ws leaves 4499 to applications). */
export const SLOW_CONSUMER_CLOSE_CODE = 4499;

/**
 * graphql-js `subscribe`, except that a job event delivered to many subscribers (one object for
 * all of them) is executed once per share key (tenant, operation, variables), in a context whose
 * loaders hold what was read for it: 500 dashboards on one job, one execute per event.
 */
async function sharedSubscribe(
  args: ExecutionArgs,
  context: SubscriptionContext,
): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const source = await createSourceEventStream(args);
  if (!(Symbol.asyncIterator in source)) return source as ExecutionResult;
  const iterator = (source as AsyncIterable<unknown>)[Symbol.asyncIterator]();
  const run = (payload: unknown) => {
    if (!(payload instanceof JobEventDelivery)) return execute({ ...args, rootValue: payload });
    return payload.shared(`execute:${context.shareKey ?? context.requestId}`, () =>
      execute({ ...args, rootValue: payload, contextValue: deliveryContext(context, payload) }),
    );
  };
  const mapped: AsyncIterableIterator<ExecutionResult> = {
    async next() {
      const step = await iterator.next();
      return step.done ? { value: undefined, done: true } : { value: await run(step.value), done: false };
    },
    async return() {
      await iterator.return?.();
      return { value: undefined, done: true };
    },
    async throw(error: unknown) {
      await iterator.return?.();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  return mapped;
}

interface ConnectionExtra extends Record<PropertyKey, unknown> {
  principal: Principal;
  connectionId: string;
}

/**
 * Open sockets grouped by API key: one `isActive` query per key per interval, not one per
 * socket, and an in-process revocation closes them at once.
 */
class SocketsByKey {
  private readonly byKey = new Map<string, Set<WebSocket>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly services: Services) {
    services.apiKeys.revocations.on("revoked", this.onRevoked);
  }

  add(apiKeyId: string, socket: WebSocket): void {
    let set = this.byKey.get(apiKeyId);
    if (!set) {
      set = new Set();
      this.byKey.set(apiKeyId, set);
    }
    set.add(socket);
    socket.once("close", () => {
      set.delete(socket);
      if (set.size === 0 && this.byKey.get(apiKeyId) === set) this.byKey.delete(apiKeyId);
    });
    if (!this.timer) {
      this.timer = setInterval(() => void this.check(), KEY_CHECK_INTERVAL_MS);
      this.timer.unref();
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.services.apiKeys.revocations.off("revoked", this.onRevoked);
  }

  private readonly onRevoked = (apiKeyId: string): void => {
    for (const socket of this.byKey.get(apiKeyId) ?? []) socket.close(CloseCode.Forbidden, "Forbidden");
  };

  private async check(): Promise<void> {
    if (this.byKey.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
      return;
    }
    for (const apiKeyId of [...this.byKey.keys()]) {
      try {
        if (!(await this.services.apiKeys.isActive(apiKeyId))) this.onRevoked(apiKeyId);
      } catch {
        // The database is unreachable: keep the sockets; the next check decides.
      }
    }
  }
}

/**
 * GraphQL over WebSocket (the graphql-ws protocol) on GET /graphql. The key comes in
 * `connection_init` (`{ apiKey }`): a missing or bad one closes with 4403; graphql-ws itself
 * closes a subscribe before ack (4401), an init timeout (4408) and a second init (4429).
 */
export function graphQLWebSocketHandler(deps: { services: Services; schema: GraphQLSchema }): {
  handler: WebsocketHandler;
  close(): void;
} {
  const { services, schema } = deps;
  const sockets = new SocketsByKey(services);
  const rules = [...specifiedRules, ...queryLimitRules()];
  const format = (error: GraphQLError, requestId: string) =>
    formatGraphQLError(error.toJSON(), error, {
      requestId,
      onInternal: (internal) =>
        services.logger.error({ err: internal, requestId }, "internal error in a subscription"),
    }) as GraphQLError;

  const handler = makeHandler<Record<string, unknown> | undefined, ConnectionExtra>(
    {
      schema,
      connectionInitWaitTimeout: 10_000,
      onConnect: async (ctx) => {
        const apiKey = ctx.connectionParams?.apiKey;
        let principal: Principal;
        try {
          principal = await services.apiKeys.authenticate(typeof apiKey === "string" ? apiKey : undefined);
        } catch (error) {
          if (isAppError(error) && error.code === "UNAUTHENTICATED") return false;
          throw error;
        }
        ctx.extra.principal = principal;
        ctx.extra.connectionId = randomUUID();
        sockets.add(principal.apiKeyId, ctx.extra.socket);
        return true;
      },
      onSubscribe: (ctx, _id, payload) => {
        let document: ExecutionArgs["document"];
        try {
          document = parse(payload.query, { maxTokens: MAX_QUERY_TOKENS });
        } catch (error) {
          return [error instanceof GraphQLError ? error : new GraphQLError("Syntax error")];
        }
        const errors = validate(schema, document, rules);
        if (errors.length > 0) return errors.map((error) => format(error, ctx.extra.connectionId!));
        const socket = ctx.extra.socket;
        const principal = ctx.extra.principal!;
        const requestId = `${ctx.extra.connectionId}:${_id}`;
        const context: SubscriptionContext = {
          requestId,
          principal,
          services,
          loaders: createLoaders(services, principal.tenantId),
          logger: services.logger.child({ requestId, tenantId: principal.tenantId }),
          transport: {
            overloaded: () => socket.bufferedAmount > MAX_SOCKET_BUFFER_BYTES,
            drop: (reason) => socket.close(SLOW_CONSUMER_CLOSE_CODE, reason),
          },
        };
        context.shareKey = [
          principal.tenantId,
          payload.operationName ?? "",
          payload.query,
          JSON.stringify(payload.variables ?? {}),
        ].join("\n");
        return {
          schema,
          document,
          variableValues: payload.variables ?? undefined,
          operationName: payload.operationName ?? undefined,
          contextValue: context,
        };
      },
      subscribe: async (args) => await sharedSubscribe(args, args.contextValue as SubscriptionContext),
      onNext: (ctx, id, _payload, _args, result) => {
        if (!result.errors?.length) return result;
        const requestId = `${ctx.extra.connectionId}:${id}`;
        return { ...result, errors: result.errors.map((error) => format(error, requestId)) };
      },
      onError: (ctx, id, _payload, errors) => {
        const requestId = `${ctx.extra.connectionId}:${id}`;
        return errors.map((error) => format(error, requestId));
      },
    },
    12_000,
  );
  return { handler, close: () => sockets.close() };
}
