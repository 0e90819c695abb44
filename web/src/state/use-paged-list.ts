import { useCallback, useState } from "react";

/**
 * Cursor pages of one list: a page component per loaded cursor (null = the first page), each
 * with its own query, so a refresh or a cache invalidation touches only what it must.
 * `refresh` is bumped to refetch every loaded page.
 */
export function usePagedList() {
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [refresh, setRefresh] = useState(0);
  const more = useCallback((cursor: string) => setCursors((list) => [...list, cursor]), []);
  const reload = useCallback(() => setRefresh((value) => value + 1), []);
  return { cursors, more, refresh, reload };
}
