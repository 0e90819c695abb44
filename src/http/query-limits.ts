import { maxAliasesRule } from "@escape.tech/graphql-armor-max-aliases";
import { maxDepthRule } from "@escape.tech/graphql-armor-max-depth";
import { maxDirectivesRule } from "@escape.tech/graphql-armor-max-directives";
import {
  GraphQLError,
  NoSchemaIntrospectionCustomRule,
  type ValidationContext,
  type ValidationRule,
} from "graphql";

/**
 * Static limits checked before any resolver runs (ABUSE-CASES 1–3), as graphql-js validation
 * rules from GraphQL Armor, so Apollo (HTTP) and graphql-ws (WebSocket) apply the same list.
 * Messages say what was wrong, not where the limit is, so they do not teach an attacker the numbers.
 */
export interface QueryLimits {
  /** Nesting of fields; fragments (inline or named, `__schema` included) add none of their own. */
  maxDepth: number;
  /** Aliased fields in total, counting fragment spreads where they are used. */
  maxAliases: number;
  maxDirectives: number;
}

// Depth 15 admits the standard introspection query (depth 15) and nothing deeper.
export const DEFAULT_QUERY_LIMITS: QueryLimits = {
  maxDepth: 15,
  maxAliases: 30,
  maxDirectives: 50,
};

/** Parser limit (graphql-js `parse` option): a query with more tokens is refused before it is fully parsed. */
export const MAX_QUERY_TOKENS = 5_000;

export const QUERY_TOO_COMPLEX = "Query is too complex";

/**
 * Armor's rules throw by default, which graphql-js `validate` passes on as an exception rather
 * than a validation error; reporting through the context keeps a 400 GRAPHQL_VALIDATION_FAILED.
 */
const reportInstead = {
  exposeLimits: false,
  propagateOnRejection: false,
  onReject: [
    (context: ValidationContext | null) => context?.reportError(new GraphQLError(QUERY_TOO_COMPLEX)),
  ],
};

/** The validation rules enforcing `limits`, for Apollo's `validationRules` and graphql-ws alike. */
export function queryLimitRules(limits: QueryLimits = DEFAULT_QUERY_LIMITS): ValidationRule[] {
  return [
    // Introspection is not exempt: a deep `__schema` selection is as costly as any other.
    maxDepthRule({
      n: limits.maxDepth,
      flattenFragments: true,
      ignoreIntrospection: false,
      ...reportInstead,
    }),
    maxAliasesRule({ n: limits.maxAliases, ...reportInstead }),
    maxDirectivesRule({ n: limits.maxDirectives, ...reportInstead }),
  ] as ValidationRule[];
}

/**
 * Every rule an operation is validated with beyond graphql-js's own, for both transports: the
 * limits above, and no introspection where it is off (production). Apollo's `introspection:
 * false` does the same over HTTP; graphql-ws has no such switch, so the rule is the one policy.
 */
export function operationRules(options: { introspection: boolean; limits?: QueryLimits }): ValidationRule[] {
  return [
    ...queryLimitRules(options.limits),
    ...(options.introspection ? [] : [NoSchemaIntrospectionCustomRule]),
  ];
}
