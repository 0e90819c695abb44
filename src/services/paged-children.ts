import type { DataSource } from "typeorm";
import { decodeCursor, type Page, pageSize } from "./pagination.js";

/**
 * One page of children for many parents in one query (for DataLoaders): e.g. the first 20
 * assets of each of 50 campaigns. Keyset on (created_at DESC, id DESC) per parent.
 */
export async function pagedChildIds(
  dataSource: DataSource,
  options: {
    table: "asset" | "video_job";
    parentColumn: "campaign_id";
    tenantId: string;
    parentIds: readonly string[];
    first: number | null | undefined;
    after: string | null | undefined;
  },
): Promise<Map<string, Page<string>>> {
  const limit = pageSize(options.first);
  const params: unknown[] = [options.tenantId, options.parentIds];
  let cursorSql = "TRUE";
  if (options.after) {
    const position = decodeCursor(options.after);
    params.push(position.createdAt.toISOString(), position.id);
    cursorSql = "(t.created_at, t.id) < ($3::timestamptz, $4::uuid)";
  }
  const rows: { id: string; parent: string }[] = await dataSource.query(
    `SELECT id, parent FROM (
       SELECT t.id, t.${options.parentColumn} AS parent,
              row_number() OVER (PARTITION BY t.${options.parentColumn} ORDER BY t.created_at DESC, t.id DESC) AS rn
         FROM ${options.table} t
        WHERE t.tenant_id = $1 AND t.${options.parentColumn} = ANY($2::uuid[]) AND ${cursorSql}
     ) ranked
     WHERE rn <= ${limit + 1}
     ORDER BY parent, rn`,
    params,
  );
  const pages = new Map<string, Page<string>>();
  for (const parentId of options.parentIds) pages.set(parentId, { nodes: [], hasNextPage: false });
  for (const row of rows) {
    const page = pages.get(row.parent)!;
    if (page.nodes.length < limit) page.nodes.push(row.id);
    else page.hasNextPage = true;
  }
  return pages;
}
