import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeCursor, encodeCursor, MAX_PAGE_SIZE, pageSize } from "../../src/services/pagination.js";

describe("cursor pagination", () => {
  it("round-trips a position exactly", () => {
    const position = {
      createdAt: new Date("2026-11-25T10:11:12.345Z"),
      id: "0b6f1c9e-8f5e-4f7a-9d61-2c1f0a3b4c5d",
    };
    assert.deepEqual(decodeCursor(encodeCursor(position)), position);
  });

  it("rejects tampered or foreign cursors with BAD_USER_INPUT", () => {
    const bad = [
      "",
      "abc",
      Buffer.from("[1,2]").toString("base64url"),
      Buffer.from('["x","y"]').toString("base64url"),
      "A".repeat(500),
    ];
    for (const cursor of bad) assert.throws(() => decodeCursor(cursor), { code: "BAD_USER_INPUT" }, cursor);
  });

  it("defaults first to 20 and caps it at 100", () => {
    assert.equal(pageSize(undefined), 20);
    assert.equal(pageSize(null), 20);
    assert.equal(pageSize(0), 0);
    assert.equal(pageSize(MAX_PAGE_SIZE), 100);
    for (const bad of [101, 99_999_999, -1, 1.5])
      assert.throws(() => pageSize(bad), { code: "BAD_USER_INPUT" });
  });
});
