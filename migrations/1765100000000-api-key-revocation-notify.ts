import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Every process caches verified API keys for a few seconds (src/services/api-key.service.ts).
 * A key revoked or deleted anywhere — a mutation in another API process, `propvid keys revoke`,
 * or SQL by hand — is announced on `propvid_api_key_revocations` with the key's id in the same
 * transaction, so every process forgets it and closes its sockets at once.
 */
export class ApiKeyRevocationNotify1765100000000 implements MigrationInterface {
  name = "ApiKeyRevocationNotify1765100000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION api_key_revocation_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('propvid_api_key_revocations', OLD.id::text);
        RETURN NULL;
      END $$`);
    await q.query(
      `CREATE TRIGGER api_key_revoked AFTER UPDATE OF "revoked_at" ON "api_key" FOR EACH ROW
         WHEN (NEW.revoked_at IS NOT NULL AND OLD.revoked_at IS DISTINCT FROM NEW.revoked_at)
         EXECUTE FUNCTION api_key_revocation_notify()`,
    );
    await q.query(
      `CREATE TRIGGER api_key_deleted AFTER DELETE ON "api_key" FOR EACH ROW EXECUTE FUNCTION api_key_revocation_notify()`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER api_key_deleted ON "api_key"`);
    await q.query(`DROP TRIGGER api_key_revoked ON "api_key"`);
    await q.query(`DROP FUNCTION api_key_revocation_notify()`);
  }
}
