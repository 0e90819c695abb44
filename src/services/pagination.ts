import type { ObjectLiteral, SelectQueryBuilder } from "typeorm";
import { isUuid } from "../domain/ids.js";
import { AppError } from "../errors.js";

/**
 * Keyset pagination over (created_at DESC, id DESC): stable under inserts, no OFFSET scans.
 * Timestamps are stored with millisecond precision so a cursor round-trips through a JS Date exactly.
 */

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export interface CursorPosition {
  createdAt: Date;
  id: string;
}

export interface Page<T> {
  nodes: T[];
  hasNextPage: boolean;
}

export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(JSON.stringify([position.createdAt.toISOString(), position.id])).toString("base64url");
}

export function decodeCursor(cursor: string): CursorPosition {
  try {
    if (cursor.length > 200) throw new Error("too long");
    const value: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      typeof value[0] === "string" &&
      typeof value[1] === "string"
    ) {
      const createdAt = new Date(value[0]);
      if (!Number.isNaN(createdAt.getTime()) && isUuid(value[1])) return { createdAt, id: value[1] };
    }
  } catch {
    // fall through to the uniform error
  }
  throw new AppError("BAD_USER_INPUT", "Invalid cursor", { details: { argument: "after" } });
}

/** Validates `first` (default 20, at most 100); returns the limit to query (one extra row tells hasNextPage). */
export function pageSize(first: number | null | undefined): number {
  if (first === null || first === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 0 || first > MAX_PAGE_SIZE) {
    throw new AppError("BAD_USER_INPUT", `first must be between 0 and ${MAX_PAGE_SIZE}`, {
      details: { argument: "first", max: MAX_PAGE_SIZE },
    });
  }
  return first;
}

export interface PageArgs {
  first?: number | null;
  after?: string | null;
}

/** One page of `query` (already filtered; `alias` is its table's), newest first, after `args.after`. */
export async function keysetPage<E extends ObjectLiteral>(
  query: SelectQueryBuilder<E>,
  alias: string,
  args: PageArgs,
): Promise<Page<E>> {
  const limit = pageSize(args.first);
  if (args.after) {
    const position = decodeCursor(args.after);
    query.andWhere(`(${alias}.created_at, ${alias}.id) < (:afterCreatedAt, :afterId)`, {
      afterCreatedAt: position.createdAt,
      afterId: position.id,
    });
  }
  const rows = await query
    .orderBy(`${alias}.created_at`, "DESC")
    .addOrderBy(`${alias}.id`, "DESC")
    .limit(limit + 1)
    .getMany();
  return { nodes: rows.slice(0, limit), hasNextPage: rows.length > limit };
}
