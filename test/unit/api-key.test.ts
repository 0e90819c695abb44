import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  digestsEqual,
  generateApiKey,
  hashApiKey,
  type Principal,
  parseApiKey,
  requireScope,
} from "../../src/services/api-key.service.js";

describe("api keys", () => {
  it("are high-entropy, prefixed, and hashed with SHA-256", () => {
    const a = generateApiKey();
    const b = generateApiKey();
    assert.notEqual(a.key, b.key);
    assert.match(a.key, /^pv_[0-9a-f]{10}_[A-Za-z0-9_-]{43}$/);
    assert.equal(parseApiKey(a.key)?.prefix, a.prefix);
    assert.equal(a.keyHash, hashApiKey(a.key));
    assert.equal(a.keyHash.length, 64);
    assert.ok(!a.keyHash.includes(a.key.slice(14)));
  });

  it("refuses anything not shaped like a key", () => {
    for (const bad of [
      "",
      "pv_",
      "pv_123_abc",
      "Bearer x",
      `pv_${"g".repeat(10)}_${"a".repeat(43)}`,
      `${generateApiKey().key}x`,
    ]) {
      assert.equal(parseApiKey(bad), undefined, bad);
    }
  });

  it("compares digests in constant time and only equal ones match", () => {
    const hash = hashApiKey("a");
    assert.equal(digestsEqual(hash, hashApiKey("a")), true);
    assert.equal(digestsEqual(hash, hashApiKey("b")), false);
    assert.equal(digestsEqual(hash, hash.slice(0, 10)), false);
  });

  it("orders scopes: admin ⊃ write ⊃ read", () => {
    const as = (scopes: Principal["scopes"]): Principal => ({
      tenantId: "t",
      apiKeyId: "k",
      prefix: "p",
      scopes,
    });
    requireScope(as(["admin"]), "write");
    requireScope(as(["write"]), "read");
    assert.throws(() => requireScope(as(["read"]), "write"), { code: "FORBIDDEN" });
    assert.throws(() => requireScope(as(["write"]), "admin"), { code: "FORBIDDEN" });
  });
});
