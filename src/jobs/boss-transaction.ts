import type { Db } from "pg-boss";
import type { EntityManager } from "typeorm";
import { returnedRows } from "../db/sql.js";

/**
 * pg-boss's database interface over a TypeORM transaction: a job sent with `{ db }` is inserted
 * (and its NOTIFY issued) in that transaction, so it exists exactly when the transaction commits
 * — the outbox of partner webhooks needs nothing more.
 */
export function bossTransaction(manager: EntityManager): Db {
  return {
    async executeSql(text: string, values?: unknown[]) {
      return { rows: returnedRows(await manager.query(text, values)) };
    },
  };
}
