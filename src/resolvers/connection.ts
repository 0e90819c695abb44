import type { Connection } from "../schema/connection.type.js";
import { encodeCursor, type Page } from "../services/pagination.js";

/** Turns a page of rows into a connection, mapping each row to its GraphQL shape. */
export function toConnection<E extends { id: string; createdAt: Date }, N>(
  page: Page<E>,
  map: (entity: E) => N,
): Connection<N> {
  const edges = page.nodes.map((entity) => ({ cursor: encodeCursor(entity), node: map(entity) }));
  return {
    edges,
    pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null },
  };
}

/** Loads the entities of a page of ids through a loader, keeping the order. */
export async function loadPage<E>(
  page: Page<string>,
  load: (ids: string[]) => Promise<(E | null | Error)[]>,
): Promise<Page<E>> {
  const rows = await load(page.nodes);
  return {
    nodes: rows.filter((row): row is E => row !== null && !(row instanceof Error)),
    hasNextPage: page.hasNextPage,
  };
}
