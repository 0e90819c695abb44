import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AppError } from "../../src/errors.js";
import {
  restError,
  restErrorOf,
  UNAUTHENTICATED_GRAPHQL_BODY,
  UNAUTHENTICATED_REST_BODY,
} from "../../src/http/errors.js";

describe("REST error bodies", () => {
  it("keep the documented shape and key order, byte for byte", () => {
    assert.equal(
      JSON.stringify(restError("NOT_FOUND", "Media not found")),
      '{"error":{"code":"NOT_FOUND","message":"Media not found"}}',
    );
    assert.equal(
      JSON.stringify(restError("RATE_LIMITED", "Rate limit exceeded", { retryAfterSeconds: 3 })),
      '{"error":{"code":"RATE_LIMITED","message":"Rate limit exceeded","retryAfterSeconds":3}}',
    );
  });

  it("give every authentication failure one body, REST and GraphQL", () => {
    assert.equal(
      UNAUTHENTICATED_REST_BODY,
      '{"error":{"code":"UNAUTHENTICATED","message":"Unauthenticated"}}',
    );
    assert.equal(
      UNAUTHENTICATED_GRAPHQL_BODY,
      '{"errors":[{"message":"Unauthenticated","extensions":{"code":"UNAUTHENTICATED"}}]}',
    );
  });

  it("map an AppError to its status, message and safe details", () => {
    const tooLarge = restErrorOf(
      new AppError("PAYLOAD_TOO_LARGE", "Photos may be at most 10 bytes", { details: { maxBytes: 10 } }),
    );
    assert.equal(tooLarge.status, 413);
    assert.deepEqual(tooLarge.body, {
      error: {
        code: "PAYLOAD_TOO_LARGE",
        message: "Photos may be at most 10 bytes",
        details: { maxBytes: 10 },
      },
    });
    const conflict = restErrorOf(new AppError("CONFLICT", "used", { cause: new Error("SQL detail") }));
    assert.equal(conflict.status, 409);
    assert.equal(JSON.stringify(conflict.body), '{"error":{"code":"CONFLICT","message":"used"}}');
  });
});
