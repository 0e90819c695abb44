import {
  type ASTVisitor,
  type FragmentDefinitionNode,
  GraphQLError,
  Kind,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from "graphql";

/**
 * Static limits checked before any resolver runs (ABUSE-CASES 1–3). Messages say what was
 * wrong, not where the limit is, so they do not teach an attacker the numbers.
 */
export interface QueryLimits {
  maxDepth: number;
  /** Fields selected in total, counting fragment spreads where they are used. */
  maxFields: number;
  /** Aliased fields in total. */
  maxAliases: number;
  maxDirectives: number;
}

// Depth 15 admits the standard introspection query (depth 15) and nothing deeper.
export const DEFAULT_QUERY_LIMITS: QueryLimits = {
  maxDepth: 15,
  maxFields: 1_500,
  maxAliases: 30,
  maxDirectives: 50,
};

/** Parser limit: a query with more tokens is refused before it is fully parsed. */
export const MAX_QUERY_TOKENS = 5_000;

interface Tally {
  depth: number;
  fields: number;
  aliases: number;
  directives: number;
}

export function queryLimitsRule(limits: QueryLimits = DEFAULT_QUERY_LIMITS): ValidationRule {
  return (context: ValidationContext): ASTVisitor => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const definition of context.getDocument().definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
    }
    return {
      OperationDefinition(operation) {
        const tally: Tally = {
          depth: 0,
          fields: 0,
          aliases: 0,
          directives: operation.directives?.length ?? 0,
        };
        const ok = walk(operation.selectionSet, 1, new Set(), fragments, tally, limits);
        if (!ok) context.reportError(new GraphQLError("Query is too complex", { nodes: [operation] }));
      },
    };
  };
}

function walk(
  selectionSet: SelectionSetNode,
  depth: number,
  visiting: Set<string>,
  fragments: Map<string, FragmentDefinitionNode>,
  tally: Tally,
  limits: QueryLimits,
): boolean {
  if (depth > limits.maxDepth) return false;
  tally.depth = Math.max(tally.depth, depth);
  for (const selection of selectionSet.selections) {
    tally.directives += selection.directives?.length ?? 0;
    if (tally.directives > limits.maxDirectives) return false;
    if (selection.kind === Kind.FIELD) {
      tally.fields += 1;
      if (selection.alias) tally.aliases += 1;
      if (tally.fields > limits.maxFields || tally.aliases > limits.maxAliases) return false;
      if (
        selection.selectionSet &&
        !walk(selection.selectionSet, depth + 1, visiting, fragments, tally, limits)
      )
        return false;
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      if (!walk(selection.selectionSet, depth, visiting, fragments, tally, limits)) return false;
    } else {
      const name = selection.name.value;
      const fragment = fragments.get(name);
      // A cycle is reported by graphql's own NoFragmentCycles rule; just do not loop here.
      if (!fragment || visiting.has(name)) continue;
      visiting.add(name);
      const ok = walk(fragment.selectionSet, depth, visiting, fragments, tally, limits);
      visiting.delete(name);
      if (!ok) return false;
    }
  }
  return true;
}
