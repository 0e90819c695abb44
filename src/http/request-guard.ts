import {
  type DocumentNode,
  GraphQLError,
  type GraphQLSchema,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  visit,
} from "graphql";
import type { Config } from "../config.js";
import { isDatabaseUnavailable } from "../db/unavailable.js";
import { AppError, isAppError } from "../errors.js";
import type { ApiKeyService, Principal } from "../services/api-key.service.js";
import { RETRY_AFTER_OUTAGE_SECONDS } from "./errors.js";
import { operationCost } from "./query-cost.js";
import { RateLimiter } from "./rate-limiter.js";

/** Costs remembered per document (by operation and variables); beyond this they start over. */
const COSTS_PER_DOCUMENT = 32;

/**
 * The guards every request passes, whatever the transport: HTTP (src/http/auth.ts,
 * graphql.route.ts) and WebSocket (websocket.ts) call the same methods.
 * - `authenticate`: a key verified lately is answered from memory (an over-limit key is refused
 *   without a database read); otherwise the database decides, and failed attempts are counted
 *   per source address, which is refused for a while once it has too many. Each admitted
 *   request (an HTTP request, a WebSocket `connection_init`) takes one unit of the key's rate limit.
 * - `admitConnect`: WebSocket connects per source address.
 * - `checkOperation`, after parsing and validation, before anything runs: text that PostgreSQL
 *   cannot store, each field of a mutation as one request against the rate limit, the cost
 *   limit, and the key's cost budget per minute. An operation refused for its cost is charged
 *   the limit; a key whose budget is spent is refused before parsing (`refuseOverBudget`).
 */
export class RequestGuard {
  private readonly requests: RateLimiter;
  private readonly costs: RateLimiter;
  private readonly authFailures: RateLimiter;
  private readonly connects: RateLimiter;
  private readonly knownCosts = new WeakMap<DocumentNode, Map<string, number>>();

  constructor(
    private readonly deps: {
      apiKeys: Pick<ApiKeyService, "cached" | "authenticate">;
      config: Pick<Config, "rateLimitPerMinute" | "limits">;
      now?: () => number;
    },
  ) {
    const { rateLimitPerMinute, limits } = deps.config;
    this.requests = new RateLimiter(rateLimitPerMinute, deps.now);
    this.costs = new RateLimiter(limits.costPerMinute, deps.now);
    this.authFailures = new RateLimiter(limits.authFailuresPerMinute, deps.now);
    this.connects = new RateLimiter(limits.wsConnectsPerMinute, deps.now);
  }

  get maxQueryCost(): number {
    return this.deps.config.limits.maxQueryCost;
  }

  /** The caller of a presented key (one unit of its rate limit taken); throws UNAUTHENTICATED, RATE_LIMITED or SERVICE_UNAVAILABLE. */
  async authenticate(presented: string | undefined, address: string): Promise<Principal> {
    const known = this.deps.apiKeys.cached(presented);
    if (known) return this.admit(known, 1);
    const blocked = this.authFailures.wait(address);
    if (blocked > 0) throw rateLimited("Too many failed authentications from this address", blocked);
    let principal: Principal;
    try {
      principal = await this.deps.apiKeys.authenticate(presented);
    } catch (error) {
      if (isAppError(error) && error.code === "UNAUTHENTICATED") this.authFailures.charge(address);
      throw serviceUnavailableIfDatabaseDown(error);
    }
    return this.admit(principal, 1);
  }

  /**
   * Refuses a key whose cost budget is spent, before its operation is parsed (HTTP calls it
   * through `authenticate`, the WebSocket transport for each operation).
   */
  refuseOverBudget(principal: Principal): void {
    const wait = this.costs.wait(principal.apiKeyId);
    if (wait > 0) throw rateLimited("Query cost budget per minute exceeded", wait);
  }

  /** One more WebSocket connection from `address`; throws RATE_LIMITED. */
  admitConnect(address: string): void {
    const wait = this.connects.take(address);
    if (wait > 0) throw rateLimited("Too many WebSocket connections from this address", wait);
  }

  /**
   * Checks a parsed, valid operation before it runs; `charged` is what the request already
   * took from the rate limit (1 over HTTP, 0 for an operation on an open socket). Returns its cost.
   */
  checkOperation(request: {
    principal: Principal;
    schema: GraphQLSchema;
    document: DocumentNode;
    operation: OperationDefinitionNode;
    variables?: Record<string, unknown> | null;
    charged: number;
  }): { cost: number } {
    const { principal, document, operation, variables } = request;
    refuseUnstorableText(document, variables);
    const requests =
      operation.operation === "mutation" ? Math.max(1, rootFieldCount(document, operation)) : 1;
    if (requests > request.charged) this.admit(principal, requests - request.charged);
    let cost: number;
    try {
      cost = this.costOf(request.schema, document, operation, variables);
    } catch (error) {
      if (!(error instanceof GraphQLError)) throw error;
      if (/exceeds the maximum allowed number of nodes/.test(error.message))
        throw new AppError("COST_LIMIT_EXCEEDED", "Query is too complex to cost", {
          details: { maxCost: this.maxQueryCost },
        });
      // Variables that do not fit their types: the message graphql-js gives when executing.
      throw new AppError("BAD_USER_INPUT", error.message);
    }
    if (cost > this.maxQueryCost) {
      // Refusing it took work: it costs the key as much as the costliest allowed operation, so a
      // key that keeps sending one runs out of budget and is then refused before parsing.
      this.costs.charge(principal.apiKeyId, this.maxQueryCost);
      throw new AppError(
        "COST_LIMIT_EXCEEDED",
        `Query cost ${cost} exceeds the limit of ${this.maxQueryCost} (see "Query cost" in the README)`,
        { details: { cost, maxCost: this.maxQueryCost } },
      );
    }
    const wait = this.costs.take(principal.apiKeyId, cost);
    if (wait > 0) {
      throw new AppError("RATE_LIMITED", "Query cost budget per minute exceeded", {
        details: { cost, costPerMinute: this.deps.config.limits.costPerMinute, retryAfterSeconds: wait },
      });
    }
    return { cost };
  }

  /**
   * The operation's cost, remembered per document (Apollo hands the same DocumentNode for a
   * query text it has seen: its document cache) and variables, so a query sent again and again
   * — a dashboard's, or an attacker's refused one — is costed once.
   */
  private costOf(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Record<string, unknown> | null | undefined,
  ): number {
    const key = `${operation.name?.value ?? ""}\n${JSON.stringify(variables ?? {})}`;
    let known = this.knownCosts.get(document);
    const hit = known?.get(key);
    if (hit !== undefined) return hit;
    const cost = operationCost({ schema, document, operationName: operation.name?.value, variables });
    if (!known) {
      known = new Map();
      this.knownCosts.set(document, known);
    }
    if (known.size >= COSTS_PER_DOCUMENT) known.clear();
    known.set(key, cost);
    return cost;
  }

  private admit(principal: Principal, requests: number): Principal {
    this.refuseOverBudget(principal);
    const wait = this.requests.take(principal.apiKeyId, requests);
    if (wait > 0) throw rateLimited("Rate limit exceeded", wait);
    return principal;
  }
}

function rateLimited(message: string, retryAfterSeconds: number): AppError {
  return new AppError("RATE_LIMITED", message, { details: { retryAfterSeconds } });
}

/** A database that cannot be reached is the service being unavailable, not an internal error. */
export function serviceUnavailableIfDatabaseDown(error: unknown): unknown {
  if (!isDatabaseUnavailable(error)) return error;
  return new AppError("SERVICE_UNAVAILABLE", "Service unavailable, try again shortly", {
    details: { retryAfterSeconds: RETRY_AFTER_OUTAGE_SECONDS },
    transient: true,
    cause: error,
  });
}

/**
 * The fields an operation selects at its root (through fragments; `__typename` aside): each
 * field of a mutation is one request against the rate limit, aliased or not.
 */
export function rootFieldCount(document: DocumentNode, operation: OperationDefinitionNode): number {
  const fragments = new Map<string, SelectionSetNode>();
  for (const definition of document.definitions)
    if (definition.kind === Kind.FRAGMENT_DEFINITION)
      fragments.set(definition.name.value, definition.selectionSet);
  const count = (set: SelectionSetNode, seen: Set<string>): number => {
    let fields = 0;
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) fields += selection.name.value === "__typename" ? 0 : 1;
      else if (selection.kind === Kind.INLINE_FRAGMENT) fields += count(selection.selectionSet, seen);
      else if (!seen.has(selection.name.value)) {
        const fragment = fragments.get(selection.name.value);
        if (fragment) fields += count(fragment, new Set([...seen, selection.name.value]));
      }
    }
    return fields;
  };
  return count(operation.selectionSet, new Set());
}

/**
 * Text PostgreSQL cannot store — a NUL character, or half of a UTF-16 surrogate pair (which
 * would be stored silently changed) — refused in every string of the document's arguments and
 * of the variables, with where it was found, before any resolver sees it.
 */
export function refuseUnstorableText(
  document: DocumentNode,
  variables: Record<string, unknown> | null | undefined,
): void {
  let found: string | undefined;
  visit(document, {
    StringValue(node, _key, parent, _path, ancestors) {
      if (found || storable(node.value)) return;
      // `ancestors` leaves out the direct parent (an Argument, for a literal argument).
      const owner = [...ancestors, ...(parent ? [parent] : [])]
        .reverse()
        .find(
          (ancestor) =>
            "kind" in ancestor &&
            (ancestor.kind === Kind.ARGUMENT || ancestor.kind === Kind.VARIABLE_DEFINITION),
        );
      found =
        owner && "kind" in owner && owner.kind === Kind.ARGUMENT
          ? `argument "${owner.name.value}"`
          : owner && "kind" in owner && owner.kind === Kind.VARIABLE_DEFINITION
            ? `the default of $${owner.variable.name.value}`
            : "the document";
    },
  });
  if (!found && variables) found = unstorableIn(variables, "$");
  if (found) {
    throw new AppError(
      "BAD_USER_INPUT",
      `Text that cannot be stored (a NUL character or a broken surrogate) in ${found}`,
      {
        details: { where: found },
      },
    );
  }
}

// A NUL, a high surrogate without its low half, or a low surrogate without its high half.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding the NUL character is the point.
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function storable(text: string): boolean {
  return !UNSTORABLE.test(text);
}

function unstorableIn(value: unknown, path: string, depth = 0): string | undefined {
  if (typeof value === "string") return storable(value) ? undefined : `variable ${path}`;
  if (depth > 32 || value === null || typeof value !== "object") return undefined;
  const entries = Array.isArray(value)
    ? value.map((item, i) => [`[${i}]`, item] as const)
    : Object.entries(value);
  for (const [key, item] of entries) {
    if (!storable(String(key))) return `variable ${path}`;
    const where = unstorableIn(
      item,
      Array.isArray(value) ? `${path}${key}` : path === "$" ? `$${key}` : `${path}.${key}`,
      depth + 1,
    );
    if (where) return where;
  }
  return undefined;
}
