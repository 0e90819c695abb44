import { randomUUID } from "node:crypto";
import type { WebSocket, WebsocketHandler } from "@fastify/websocket";
import {
  createSourceEventStream,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  execute,
  GraphQLError,
  type GraphQLSchema,
  getOperationAST,
  parse,
  specifiedRules,
  validate,
} from "graphql";
import { CloseCode, makeServer } from "graphql-ws";
import type { Services } from "../container.js";
import { AppError, isAppError } from "../errors.js";
import { JobEventDelivery } from "../events/job-event-delivery.js";
import { createLoaders } from "../resolvers/loaders.js";
import { deliveryContext, type SubscriptionContext } from "../resolvers/subscription.resolver.js";
import type { Principal } from "../services/api-key.service.js";
import { formatGraphQLError, withoutSuggestions } from "./errors.js";
import { MAX_QUERY_TOKENS, operationRules } from "./query-limits.js";
import type { RequestGuard } from "./request-guard.js";
import { graphQLWebSocketTransport, type SocketExtra } from "./websocket-transport.js";

/** How often every open socket's key is re-checked (a safety net: revocations are announced at once). */
export const KEY_CHECK_INTERVAL_MS = 5_000;
/** Close code when the guard refuses a `connection_init` for its rate (graphql-ws's "too many" code). */
export const RATE_LIMITED_CLOSE_CODE = 4429;
/** Close code while the database cannot be reached ("try again later", RFC 6455). */
export const TRY_AGAIN_LATER_CLOSE_CODE = 1013;

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

interface ConnectionExtra extends SocketExtra, Record<PropertyKey, unknown> {
  connectionId: string;
  principal?: Principal;
  /** Ids of this socket's live subscriptions (for the caps). */
  subscriptions: Set<string>;
  /** How many it held when the socket began to close (graphql-ws completes them before `onClose`). */
  heldAtClose?: number;
}

/**
 * Open sockets by API key: a revoked key (announced by any process, or found by the periodic
 * check — one `isActive` query per key, not per socket) closes its sockets at once; and the
 * count of live subscriptions per key, for the per-key cap.
 */
class SocketsByKey {
  private readonly byKey = new Map<string, Set<WebSocket>>();
  private readonly subscriptions = new Map<string, number>();
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

  subscriptionsOf(apiKeyId: string): number {
    return this.subscriptions.get(apiKeyId) ?? 0;
  }

  countSubscription(apiKeyId: string, delta: 1 | -1): void {
    const count = this.subscriptionsOf(apiKeyId) + delta;
    if (count > 0) this.subscriptions.set(apiKeyId, count);
    else this.subscriptions.delete(apiKeyId);
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

/** A parse or validation error with the code Apollo gives it over HTTP (and, in production, without schema hints). */
function withCode(error: GraphQLError, code: string, message = error.message): GraphQLError {
  return new GraphQLError(message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    extensions: { ...error.extensions, code },
  });
}

/** An AppError (or anything) as the GraphQLError graphql-ws sends in an `error` message for one operation. */
function operationError(error: unknown): GraphQLError {
  if (error instanceof GraphQLError) return error;
  return new GraphQLError(error instanceof Error ? error.message : "Internal server error", {
    originalError: error instanceof Error ? error : undefined,
  });
}

/**
 * GraphQL over WebSocket (the graphql-ws protocol) on GET /graphql, with the same guards as
 * HTTP (src/http/request-guard.ts). The key comes in `connection_init` (`{ apiKey }`): a missing
 * or bad one closes with 4403, an address or key over its rate with 4429, an outage with 1013;
 * graphql-ws itself closes a subscribe before ack (4401), an init timeout (4408) and a second
 * init (4429). Every operation is parsed, validated (limits, introspection policy) and checked
 * (rate, cost, budget, text) before it runs; a refusal is an `error` message for that operation
 * only. Subscriptions are capped per socket and per key. A client that does not keep up is
 * closed with 4499 (websocket-transport.ts).
 */
export function graphQLWebSocketHandler(deps: {
  services: Services;
  schema: GraphQLSchema;
  guard: RequestGuard;
}): {
  handler: WebsocketHandler;
  close(): void;
} {
  const { services, schema, guard } = deps;
  const { config, logger } = services;
  const sockets = new SocketsByKey(services);
  const rules = [...specifiedRules, ...operationRules({ introspection: !config.isProduction })];
  const limits = config.limits;
  const format = (error: GraphQLError, requestId: string) =>
    formatGraphQLError(error.toJSON(), error, {
      requestId,
      onInternal: (internal) =>
        logger.error({ err: internal, requestId }, "internal error in a subscription"),
    });
  const release = (extra: ConnectionExtra, id: string) => {
    if (extra.socket.readyState !== extra.socket.OPEN) extra.heldAtClose ??= extra.subscriptions.size;
    if (extra.subscriptions.delete(id) && extra.principal)
      sockets.countSubscription(extra.principal.apiKeyId, -1);
  };

  /** Parses, validates and guards one operation: its document, or the errors to send for it. */
  const prepare = (
    extra: ConnectionExtra,
    id: string,
    payload: { query: string; operationName?: string | null; variables?: Record<string, unknown> | null },
  ): { document: DocumentNode } | readonly GraphQLError[] => {
    let document: DocumentNode;
    try {
      guard.refuseOverBudget(extra.principal!);
    } catch (error) {
      return [operationError(error)];
    }
    try {
      document = parse(payload.query, { maxTokens: MAX_QUERY_TOKENS });
    } catch (error) {
      if (!(error instanceof GraphQLError)) throw error;
      return [withCode(error, "GRAPHQL_PARSE_FAILED")];
    }
    const invalid = validate(schema, document, rules);
    if (invalid.length > 0) {
      return invalid.map((error) =>
        withCode(
          error,
          "GRAPHQL_VALIDATION_FAILED",
          config.isProduction ? withoutSuggestions(error.message) : undefined,
        ),
      );
    }
    const operation = getOperationAST(document, payload.operationName);
    if (!operation) return [new GraphQLError("Unable to identify the operation")];
    const principal = extra.principal!;
    try {
      guard.checkOperation({
        principal,
        schema,
        document,
        operation,
        variables: payload.variables,
        charged: 0,
      });
      if (operation.operation === "subscription") {
        if (extra.subscriptions.size >= limits.maxSubscriptionsPerSocket)
          throw new AppError("RATE_LIMITED", "Too many subscriptions on this socket", {
            details: { limit: limits.maxSubscriptionsPerSocket },
          });
        if (sockets.subscriptionsOf(principal.apiKeyId) >= limits.maxSubscriptionsPerKey)
          throw new AppError("RATE_LIMITED", "Too many subscriptions for this API key", {
            details: { limit: limits.maxSubscriptionsPerKey },
          });
        extra.subscriptions.add(id);
        sockets.countSubscription(principal.apiKeyId, 1);
      }
    } catch (error) {
      return [operationError(error)];
    }
    return { document };
  };

  const server = makeServer<Record<string, unknown> | undefined, ConnectionExtra>({
    schema,
    connectionInitWaitTimeout: 10_000,
    onConnect: async (ctx) => {
      const { socket, request } = ctx.extra;
      const apiKey = ctx.connectionParams?.apiKey;
      try {
        ctx.extra.principal = await guard.authenticate(
          typeof apiKey === "string" ? apiKey : undefined,
          request.ip,
        );
      } catch (error) {
        if (!isAppError(error)) throw error;
        if (error.code === "RATE_LIMITED") socket.close(RATE_LIMITED_CLOSE_CODE, "Rate limit exceeded");
        else if (error.code === "SERVICE_UNAVAILABLE")
          socket.close(TRY_AGAIN_LATER_CLOSE_CODE, "Try again later");
        return false;
      }
      sockets.add(ctx.extra.principal.apiKeyId, socket);
      return true;
    },
    onSubscribe: (ctx, id, payload) => {
      const prepared = prepare(ctx.extra, id, payload);
      if (!("document" in prepared)) return prepared;
      const principal = ctx.extra.principal!;
      const requestId = `${ctx.extra.connectionId}:${id}`;
      const context: SubscriptionContext = {
        requestId,
        principal,
        services,
        loaders: createLoaders(services, principal.tenantId),
        logger: logger.child({ requestId, tenantId: principal.tenantId }),
        transport: ctx.extra.transport,
        shareKey: [
          principal.tenantId,
          payload.operationName ?? "",
          payload.query,
          JSON.stringify(payload.variables ?? {}),
        ].join("\n"),
      };
      return {
        schema,
        document: prepared.document,
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
      release(ctx.extra, id);
      const requestId = `${ctx.extra.connectionId}:${id}`;
      return errors.map((error) => format(error, requestId));
    },
    onComplete: (ctx, id) => release(ctx.extra, id),
    onClose: (ctx, code, reason) => {
      const open = ctx.extra.heldAtClose ?? ctx.extra.subscriptions.size;
      for (const id of [...ctx.extra.subscriptions]) release(ctx.extra, id);
      // One line per socket, whatever it held: a disconnect is not an error.
      logger.info(
        {
          connectionId: ctx.extra.connectionId,
          tenantId: ctx.extra.principal?.tenantId,
          code,
          reason: reason || undefined,
          subscriptions: open,
        },
        "GraphQL WebSocket closed",
      );
    },
  });

  const transport = graphQLWebSocketTransport(server, {
    logger,
    extra: (base): ConnectionExtra => ({
      ...base,
      connectionId: randomUUID(),
      subscriptions: new Set(),
    }),
  });
  return {
    handler: transport.handler,
    close: () => {
      transport.close();
      sockets.close();
    },
  };
}
