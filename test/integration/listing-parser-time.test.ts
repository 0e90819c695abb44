/**
 * How long the listing parser takes on hostile markup: a wall-clock bound, so it lives at the
 * integration tier (unit tests read no clock).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { extractListingPhotos } from "../../src/media/listing-parser.js";

describe("listing parser on hostile markup", () => {
  it("stays linear: unclosed tags, comments, attributes and script ends in bulk parse within 2 s", () => {
    const hostile = `${"<img ".repeat(20_000)}${"<!--".repeat(20_000)}${"<a b='".repeat(20_000)}`;
    const started = performance.now();
    extractListingPhotos(hostile, "https://x.test/");
    extractListingPhotos(`<script>${"</scrip".repeat(50_000)}`, "https://x.test/");
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 2000, `took ${elapsed.toFixed(0)} ms`);
  });
});
