import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TokenService } from "../../src/services/token.service.js";

describe("signed URL tokens", () => {
  let now = 1_800_000_000_000;
  const tokens = new TokenService("a-test-secret-that-is-long-enough-000", () => now);
  const claims = { id: "media-1", purpose: "view" as const, tenantId: "tenant-a" };

  it("verify for the same object, purpose and tenant until they expire", () => {
    const { token, expiresAt } = tokens.sign(claims, 60);
    assert.equal(expiresAt.getTime(), now + 60_000);
    assert.equal(tokens.verify(token, claims), true);
    now += 61_000;
    assert.equal(tokens.verify(token, claims), false, "expired");
  });

  it("refuse another object, purpose, tenant, secret or extra binding, and tampering", () => {
    const { token } = tokens.sign({ ...claims, extra: "cap=10" }, 60);
    assert.equal(tokens.verify(token, { ...claims, extra: "cap=10" }), true);
    assert.equal(tokens.verify(token, { ...claims, extra: "cap=11" }), false);
    assert.equal(tokens.verify(token, { ...claims, id: "media-2", extra: "cap=10" }), false);
    assert.equal(tokens.verify(token, { ...claims, tenantId: "tenant-b", extra: "cap=10" }), false);
    assert.equal(tokens.verify(token, { ...claims, purpose: "download", extra: "cap=10" }), false);
    const other = new TokenService("another-secret-that-is-long-enough-000", () => now);
    assert.equal(other.verify(token, { ...claims, extra: "cap=10" }), false);
    const [expiry, purpose, mac] = token.split(".");
    assert.equal(
      tokens.verify(`${Number(expiry) + 1000}.${purpose}.${mac}`, { ...claims, extra: "cap=10" }),
      false,
    );
    for (const junk of [undefined, "", "x", `${expiry}.${purpose}`, `${"9".repeat(300)}`])
      assert.equal(tokens.verify(junk, claims), false);
  });

  it("with an alignment, sign the same URL for a whole window and still live at least the lifetime", () => {
    now = 1_800_000_123_000; // 123 s into a 600 s window
    const first = tokens.sign(claims, 3600, 600);
    now += 400_000;
    const later = tokens.sign(claims, 3600, 600);
    assert.equal(later.token, first.token, "same window, same token");
    assert.equal(first.expiresAt.getTime() % 600_000, 0);
    assert.ok(first.expiresAt.getTime() - (now - 400_000) >= 3_600_000);
    assert.ok(first.expiresAt.getTime() - (now - 400_000) < 4_200_000);
    now += 200_000; // the next window
    assert.notEqual(tokens.sign(claims, 3600, 600).token, first.token);
    assert.equal(tokens.verify(first.token, claims), true);
  });
});
