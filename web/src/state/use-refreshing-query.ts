import { useEffect, useMemo, useRef } from "react";
import { type AnyVariables, type TypedDocumentNode, type UseQueryResponse, useQuery } from "urql";

/**
 * useQuery that refetches from the network whenever `refresh` changes (after an upload, an
 * import, a job event): urql's cache cannot know about changes made outside a mutation.
 * `typenames` names the types a list may gain while it is still empty.
 */
export function useRefreshingQuery<Data, Variables extends AnyVariables>(
  query: TypedDocumentNode<Data, Variables>,
  variables: Variables,
  refresh: number,
  typenames: string[] = [],
): UseQueryResponse<Data, Variables> {
  const key = typenames.join(",");
  const context = useMemo(() => ({ additionalTypenames: key ? key.split(",") : [] }), [key]);
  // Callers pass a fresh object each render; the same values must not look like a new query.
  const serialized = JSON.stringify(variables);
  // biome-ignore lint/correctness/useExhaustiveDependencies: keyed by the serialized values
  const stable = useMemo(() => variables, [serialized]);
  const response = useQuery<Data, Variables>({ query, variables: stable, context } as never);
  const [, reexecute] = response;
  const seen = useRef(refresh);
  useEffect(() => {
    if (seen.current === refresh) return;
    seen.current = refresh;
    reexecute({ requestPolicy: "network-only" });
  }, [refresh, reexecute]);
  return response;
}
