import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { mediaCacheControl } from "../../src/delivery/cache-policy.js";
import { downloadFilename, formatLabel, videoDownloadName } from "../../src/delivery/download-name.js";
import { contentDisposition } from "../../src/http/range.js";

/** What no OS accepts in a file name, or only with trouble (Windows is the strictest). */
const UNSAFE = /[<>:"/\\|?*]|[^\x20-\x7e]|[. ]$|^(con|prn|aux|nul|com\d|lpt\d)(\.|$)/i;

describe("download names", () => {
  it("are built from the street line, the template and the format", () => {
    assert.equal(
      downloadFilename({
        address: "12 Ocean Drive, Miami Beach, FL 33139",
        campaignName: "Ocean",
        template: "JUST_LISTED",
        aspectRatio: "LANDSCAPE_16_9",
        extension: "mp4",
      }),
      "12-ocean-drive-just-listed-16x9.mp4",
    );
    assert.equal(
      videoDownloadName(
        { options: { aspectRatio: "PORTRAIT_9_16" }, campaign: { name: "Villa Sérénité", address: null } },
        { variant: "UNBRANDED", label: "720p" },
      ),
      "villa-serenite-9x16-mls-720p.mp4",
    );
    assert.equal(formatLabel("PORTRAIT_4_5"), "4x5");
    assert.equal(formatLabel("SOMETHING"), "something");
  });

  it("are safe on every OS whatever the address holds", () => {
    const hostile = [
      "../../etc/passwd",
      "CON",
      "nul",
      "a\r\nContent-Type: text/html",
      'Straße 5 / Ecke "Haupt" <b>*?|',
      "東京都港区 1-2-3",
      "😀😀",
      "   ",
      "x".repeat(500),
      "...",
    ];
    for (const address of hostile) {
      const name = downloadFilename({
        address,
        campaignName: "",
        template: null,
        aspectRatio: "SQUARE_1_1",
        extension: "mp4",
      });
      assert.doesNotMatch(name, UNSAFE, name);
      assert.match(name, /^[a-z0-9][a-z0-9-]*\.mp4$/, name);
      assert.ok(name.length <= 80, name);
      // And the header that carries it stays one plain ASCII line.
      assert.match(contentDisposition(name, true), /^attachment; filename="[a-z0-9.-]+"$/);
    }
    assert.equal(
      downloadFilename({
        address: "東京都港区",
        campaignName: "",
        aspectRatio: "SQUARE_1_1",
        extension: "mp4",
      }),
      "property-video-1x1.mp4",
      "a script slugify cannot transliterate falls back to a generic name, not an empty one",
    );
  });
});

describe("media cache policy", () => {
  const now = 1_800_000_000_000;
  const expiresAt = now / 1000 + 600;

  it("lets per-user signed URLs be kept privately until the token expires", () => {
    assert.equal(
      mediaCacheControl({ kind: "token", purpose: "view", expiresAt }, now),
      "private, max-age=600, immutable",
    );
    assert.equal(
      mediaCacheControl({ kind: "token", purpose: "download", expiresAt }, now + 100_500),
      "private, max-age=499, immutable",
    );
  });

  it("lets share media be cached publicly, never past the token", () => {
    assert.equal(
      mediaCacheControl({ kind: "token", purpose: "share", expiresAt }, now),
      "public, max-age=600, immutable",
    );
    assert.equal(
      mediaCacheControl({ kind: "token", purpose: "share", expiresAt }, now + 600_000),
      "no-store",
    );
  });

  it("makes API-key responses revalidate every time", () => {
    assert.equal(mediaCacheControl({ kind: "api-key" }, now), "private, no-cache");
  });
});
