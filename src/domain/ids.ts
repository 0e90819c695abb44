/**
 * Row ids are UUIDs. A string that is not one can name no row, so callers answer "not found"
 * without a query (PostgreSQL would reject it as `invalid input syntax for type uuid`).
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}
