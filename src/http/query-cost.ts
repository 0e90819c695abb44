import {
  type DocumentNode,
  type GraphQLField,
  type GraphQLSchema,
  getNamedType,
  getNullableType,
  isCompositeType,
  isListType,
} from "graphql";
import { type ComplexityEstimator, fieldExtensionsEstimator, getComplexity } from "graphql-query-complexity";
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from "../services/pagination.js";

/**
 * The cost of an operation, computed from the document and its variables before anything runs
 * (README "Query cost"): every object a field returns costs 1, scalars cost nothing, and a list
 * multiplies what is selected inside it by how long it can be:
 * - a page (a field with `first`) by `first` (default 20, at most 100 — a larger value is
 *   refused later anyway, so it counts as 100);
 * - the `edges` of a connection not again (its page was counted on the field that has `first`);
 * - any other list of objects (a job's scenes, a tenant's keys) by {@link UNPAGED_LIST_SIZE}.
 * Introspection (`__schema`, `__type`) costs nothing here: it is bounded by the schema and the
 * depth limit, and it is off in production. A field may set its own with type-graphql's
 * `complexity` option (`extensions.complexity`), which wins.
 *
 * 30 aliases × `campaigns(first: 100)` × `assets(first: 100)` costs about 600,000; a page of
 * 20 campaigns with 6 photos each about 300.
 */

/** What a list without `first` counts as: a job has at most 12 scenes. */
export const UNPAGED_LIST_SIZE = 12;

function pageSizeOf(first: unknown): number {
  if (typeof first !== "number" || !Number.isFinite(first)) return DEFAULT_PAGE_SIZE;
  return Math.min(MAX_PAGE_SIZE, Math.max(0, Math.ceil(first)));
}

function isPaged(field: GraphQLField<unknown, unknown>): boolean {
  return field.args.some((arg) => arg.name === "first");
}

/** Our cost model as a graphql-query-complexity estimator (used after the per-field override). */
const propvidEstimator: ComplexityEstimator = ({ field, type, args, childComplexity }) => {
  if (field.name.startsWith("__")) return 0;
  const fieldType = getNullableType(field.type);
  if (!isCompositeType(getNamedType(fieldType))) return 0;
  if (isPaged(field)) return 1 + pageSizeOf(args.first) * childComplexity;
  if (isListType(fieldType) && !(field.name === "edges" && type.name.endsWith("Connection")))
    return 1 + UNPAGED_LIST_SIZE * childComplexity;
  return 1 + childComplexity;
};

const ESTIMATORS = [fieldExtensionsEstimator(), propvidEstimator];

/**
 * The cost of the operation `operationName` of a valid document with its (raw) variables.
 * Throws the GraphQLError graphql-js would give when the variables do not fit their types.
 */
export function operationCost(options: {
  schema: GraphQLSchema;
  document: DocumentNode;
  operationName?: string | null;
  variables?: Record<string, unknown> | null;
}): number {
  return getComplexity({
    schema: options.schema,
    query: options.document,
    operationName: options.operationName ?? undefined,
    variables: options.variables ?? {},
    estimators: ESTIMATORS,
  });
}
