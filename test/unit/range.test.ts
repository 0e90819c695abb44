import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  contentDisposition,
  contentRangeHeader,
  etagFromSha256,
  evaluateConditionals,
  formatHttpDate,
  MAX_RANGE_HEADER,
  parseHttpDate,
  parseRange,
  type RangeResult,
  unsatisfiedRangeHeader,
} from "../../src/http/range.js";

const N = 10_000;
const single = (start: number, end: number): RangeResult => ({ kind: "single", start, end });
const unsatisfiable: RangeResult = { kind: "unsatisfiable" };
const ignored = (reason: string): RangeResult => ({ kind: "ignored", reason }) as RangeResult;

describe("parseRange", () => {
  const cases: [header: string | undefined, size: number, expected: RangeResult][] = [
    // absent
    [undefined, N, { kind: "none" }],
    ["", N, { kind: "none" }],
    // ABUSE 25: happy paths
    ["bytes=0-499", N, single(0, 499)],
    ["bytes=500-", N, single(500, N - 1)],
    ["bytes=-500", N, single(N - 500, N - 1)],
    ["bytes=9500-20000", N, single(9500, N - 1)], // last-pos beyond the end is clamped
    ["bytes=0-0", N, single(0, 0)],
    ["bytes=9999-9999", N, single(9999, 9999)],
    ["bytes=-20000", N, single(0, N - 1)], // suffix longer than the file: whole file
    ["bytes=0-", N, single(0, N - 1)],
    ["BYTES=0-1", N, single(0, 1)], // unit is case-insensitive
    ["bytes=0-1,", N, single(0, 1)], // empty list elements are allowed
    ["bytes=,0-1", N, single(0, 1)],
    ["bytes=000000000000010-000000000000020", N, single(10, 20)], // 15 digits with leading zeros
    ["bytes=0-0", 1, single(0, 0)],
    ["bytes=-1", 1, single(0, 0)],
    // ABUSE 26: unsatisfiable
    [`bytes=${N}-`, N, unsatisfiable],
    [`bytes=${N}-${N + 10}`, N, unsatisfiable],
    ["bytes=-0", N, unsatisfiable],
    ["bytes=0-0", 0, unsatisfiable], // empty file
    ["bytes=-5", 0, unsatisfiable],
    ["bytes=0-", 0, unsatisfiable],
    ["bytes=999999999999999-", N, unsatisfiable], // 15 digits, still a number
    // ABUSE 27: abuse
    ["bytes=-17208,-9223372036854758792", N, ignored("number-too-large")],
    ["bytes=0-18446744073709551615", N, ignored("number-too-large")],
    ["bytes=18446744073709551615-", N, ignored("number-too-large")],
    ["bytes=-9007199254740993", N, ignored("number-too-large")], // 2^53 + 1
    ["bytes=9007199254740992-9007199254740993", N, ignored("number-too-large")],
    ["bytes=0000000000000001-2", N, ignored("number-too-large")], // 16 digits, even with zeros
    ["bytes=0-1,2-3", N, ignored("multiple-ranges")],
    ["bytes=0-499,0-499,0-499", N, ignored("multiple-ranges")],
    [
      `bytes=${Array.from({ length: 32 }, (_, i) => `${i}-${i + 100}`).join(",")}`,
      N,
      ignored("multiple-ranges"),
    ],
    [`bytes=${Array.from({ length: 33 }, () => "0-1").join(",")}`, N, ignored("too-many-ranges")],
    [`bytes=${"0-1,".repeat(400)}`, N, ignored("too-long")],
    [`bytes=${N}-,-0`, N, unsatisfiable], // several ranges, none satisfiable
    [`bytes=${N}-, ${N + 5}-${N + 9}`, N, unsatisfiable],
    ["bytes=-0,0-1", N, ignored("multiple-ranges")], // one satisfiable: full body
    ["bytes=0-1, 5-6", N, ignored("multiple-ranges")], // OWS around commas is fine
    ["bytes=0-1 ,\t5-6", N, ignored("multiple-ranges")],
    // malformed, units, whitespace
    ["bytes=500-499", N, ignored("malformed")], // last < first
    ["bytes=1-2-3", N, ignored("malformed")],
    ["bytes=-", N, ignored("malformed")],
    ["bytes=", N, ignored("malformed")],
    ["bytes=,", N, ignored("malformed")],
    ["bytes=a-b", N, ignored("malformed")],
    ["bytes=0x10-20", N, ignored("malformed")],
    ["bytes=1e3-", N, ignored("malformed")],
    ["bytes=+1-2", N, ignored("malformed")],
    ["bytes=-1-2", N, ignored("malformed")],
    ["bytes=1.5-2", N, ignored("malformed")],
    ["bytes=٣-٤", N, ignored("malformed")], // non-ASCII digits
    ["bytes 0-1", N, ignored("malformed")],
    ["bytes", N, ignored("malformed")],
    ["=0-1", N, ignored("unit")],
    ["items=0-1", N, ignored("unit")],
    ["bytes =0-1", N, ignored("unit")],
    ["bytes= 0-1", N, ignored("malformed")],
    ["bytes=0-1 ", N, ignored("malformed")],
    ["bytes=0 -1", N, ignored("malformed")],
    ["bytes=0- 1", N, ignored("malformed")],
    ["bytes=\t0-1", N, ignored("malformed")],
    ["bytes=0-1\r\n", N, ignored("malformed")],
    [" bytes=0-1", N, ignored("unit")],
    ["bytes==0-1", N, ignored("malformed")],
  ];
  for (const [header, size, expected] of cases) {
    it(`${JSON.stringify(header)?.slice(0, 70)} of ${size} → ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(parseRange(header, size), expected);
    });
  }

  it("never yields NaN, negative or out-of-bounds offsets for random input", () => {
    const alphabet = "bytes=0123456789-, \t9";
    let seed = 42;
    const rand = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    for (let k = 0; k < 5000; k++) {
      const len = Math.floor(rand() * 40);
      let header = "bytes=";
      for (let c = 0; c < len; c++) header += alphabet[Math.floor(rand() * alphabet.length)];
      const size = Math.floor(rand() * 3) === 0 ? 0 : Math.floor(rand() * 1e6);
      const result = parseRange(header, size);
      if (result.kind === "single") {
        assert.ok(Number.isSafeInteger(result.start) && Number.isSafeInteger(result.end), header);
        assert.ok(result.start >= 0 && result.start <= result.end && result.end < size, header);
      }
    }
  });

  it("reads an oversized header without evaluating it", () => {
    assert.deepEqual(parseRange(`bytes=${"9".repeat(MAX_RANGE_HEADER)}-`, N), ignored("too-long"));
  });

  it("rejects an invalid representation size (a caller bug, not client input)", () => {
    assert.throws(() => parseRange("bytes=0-1", -1), RangeError);
    assert.throws(() => parseRange("bytes=0-1", Number.NaN), RangeError);
    assert.throws(() => parseRange("bytes=0-1", 2 ** 53), RangeError);
  });
});

describe("Content-Range", () => {
  it("formats 206 and 416 values", () => {
    assert.equal(contentRangeHeader(0, 499, N), "bytes 0-499/10000");
    assert.equal(contentRangeHeader(9999, 9999, N), "bytes 9999-9999/10000");
    assert.equal(unsatisfiedRangeHeader(N), "bytes */10000");
    assert.equal(unsatisfiedRangeHeader(0), "bytes */0");
  });

  it("matches what parseRange returns, with the exact length", () => {
    for (const header of ["bytes=0-499", "bytes=500-", "bytes=-500", "bytes=9000-99999"]) {
      const r = parseRange(header, N);
      assert.equal(r.kind, "single");
      if (r.kind !== "single") continue;
      assert.match(contentRangeHeader(r.start, r.end, N), /^bytes \d+-\d+\/10000$/);
      assert.ok(r.end - r.start + 1 <= N);
    }
  });

  it("refuses impossible ranges", () => {
    assert.throws(() => contentRangeHeader(5, 4, N), RangeError);
    assert.throws(() => contentRangeHeader(0, N, N), RangeError);
    assert.throws(() => contentRangeHeader(-1, 4, N), RangeError);
    assert.throws(() => contentRangeHeader(0, 0, 0), RangeError);
  });
});

describe("evaluateConditionals", () => {
  const sha = `${"a".repeat(63)}b`;
  const etag = etagFromSha256(sha);
  const lastModified = new Date("2024-03-01T10:00:00Z");
  const now = new Date("2024-03-02T00:00:00Z");
  const lmHeader = formatHttpDate(lastModified);
  const base = { method: "GET", etag, lastModified, now };

  it("builds a strong ETag from a SHA-256", () => {
    assert.equal(etag, `"${sha}"`);
    assert.equal(etagFromSha256(sha.toUpperCase()), `"${sha}"`);
    assert.throws(() => etagFromSha256("abc"), RangeError);
    assert.throws(() => etagFromSha256(`${sha}"`), RangeError);
  });

  const cases: [
    name: string,
    input: Partial<Parameters<typeof evaluateConditionals>[0]>,
    expected: string,
  ][] = [
    ["no conditionals", {}, "ok"],
    // ABUSE 28: If-None-Match → 304 (weak comparison)
    ["If-None-Match current", { ifNoneMatch: etag }, "not-modified"],
    ["If-None-Match weak form of current", { ifNoneMatch: `W/${etag}` }, "not-modified"],
    ["If-None-Match list", { ifNoneMatch: `"old", W/"other", ${etag}` }, "not-modified"],
    ["If-None-Match *", { ifNoneMatch: "*" }, "not-modified"],
    ["If-None-Match stale", { ifNoneMatch: '"0000"' }, "ok"],
    ["If-None-Match unquoted", { ifNoneMatch: sha }, "ok"],
    ["If-None-Match garbage", { ifNoneMatch: '"unterminated, ,,' }, "ok"],
    ["If-None-Match on HEAD", { method: "HEAD", ifNoneMatch: etag }, "not-modified"],
    ["If-None-Match on POST is not evaluated", { method: "POST", ifNoneMatch: etag }, "ok"],
    ["If-Modified-Since equal", { ifModifiedSince: lmHeader }, "not-modified"],
    ["If-Modified-Since later", { ifModifiedSince: "Sat, 01 Mar 2024 12:00:00 GMT" }, "not-modified"],
    ["If-Modified-Since earlier", { ifModifiedSince: "Fri, 01 Mar 2024 09:59:59 GMT" }, "ok"],
    ["If-Modified-Since in the future", { ifModifiedSince: "Fri, 01 Mar 2030 09:59:59 GMT" }, "ok"],
    ["If-Modified-Since invalid", { ifModifiedSince: "yesterday" }, "ok"],
    [
      "If-Modified-Since ignored when If-None-Match present",
      { ifNoneMatch: '"x"', ifModifiedSince: lmHeader },
      "ok",
    ],
    // ABUSE 28: If-Range
    ["If-Range current ETag", { ifRange: etag }, "ok"],
    ["If-Range stale ETag", { ifRange: '"0000"' }, "ignore-range"],
    ["If-Range weak current ETag", { ifRange: `W/${etag}` }, "ignore-range"],
    ["If-Range malformed ETag", { ifRange: `"${sha}` }, "ignore-range"],
    ["If-Range equal date", { ifRange: lmHeader }, "ok"],
    ["If-Range later date", { ifRange: "Fri, 01 Mar 2024 10:00:01 GMT" }, "ignore-range"],
    ["If-Range earlier date", { ifRange: "Fri, 01 Mar 2024 09:59:59 GMT" }, "ignore-range"],
    ["If-Range rfc850 date", { ifRange: "Friday, 01-Mar-24 10:00:00 GMT" }, "ok"],
    ["If-Range asctime date", { ifRange: "Fri Mar  1 10:00:00 2024" }, "ok"],
    ["If-Range garbage", { ifRange: "whenever" }, "ignore-range"],
    ["If-Range date, no Last-Modified", { ifRange: lmHeader, lastModified: undefined }, "ignore-range"],
    [
      "If-Range date when Last-Modified is too recent to be strong",
      { ifRange: lmHeader, now: new Date(lastModified.getTime() + 500) },
      "ignore-range",
    ],
    ["If-None-Match match wins over If-Range", { ifNoneMatch: etag, ifRange: '"old"' }, "not-modified"],
  ];
  for (const [name, input, expected] of cases) {
    it(`${name} → ${expected}`, () => {
      assert.equal(evaluateConditionals({ ...base, ...input }), expected);
    });
  }

  it("requires a strong current ETag", () => {
    assert.throws(() => evaluateConditionals({ method: "GET", etag: `W/${etag}` }), RangeError);
    assert.throws(() => evaluateConditionals({ method: "GET", etag: sha }), RangeError);
  });
});

describe("parseHttpDate", () => {
  it("accepts the three HTTP-date forms and nothing looser", () => {
    const t = Date.UTC(1994, 10, 6, 8, 49, 37);
    assert.equal(parseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT"), t);
    assert.equal(parseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT"), t);
    assert.equal(parseHttpDate("Sun Nov  6 08:49:37 1994"), t);
    for (const bad of [
      "1",
      "2024-03-01",
      "Sun, 31 Feb 2024 00:00:00 GMT",
      "Sun, 06 Nov 1994 25:00:00 GMT",
      "",
    ]) {
      assert.equal(parseHttpDate(bad), null, bad);
    }
  });
});

describe("contentDisposition", () => {
  const cases: [name: string, download: boolean, expected: string][] = [
    ["tour.mp4", false, 'inline; filename="tour.mp4"'],
    ["tour.mp4", true, 'attachment; filename="tour.mp4"'],
    [
      "Villa Sérénité.mp4",
      true,
      `attachment; filename="Villa S_r_nit_.mp4"; filename*=UTF-8''Villa%20S%C3%A9r%C3%A9nit%C3%A9.mp4`,
    ],
    ['a"b.mp4', true, `attachment; filename="a_b.mp4"; filename*=UTF-8''a%22b.mp4`],
    ["a\r\nSet-Cookie: x=1.mp4", true, `attachment; filename="aSet-Cookie: x=1.mp4"`],
    ["../../etc/passwd", true, `attachment; filename=".._.._etc_passwd"`],
    ["c:\\x\\y.mp4", true, `attachment; filename="c:_x_y.mp4"`],
    ["100%.mp4", false, `inline; filename="100_.mp4"; filename*=UTF-8''100%25.mp4`],
    ["", true, 'attachment; filename="download"'],
    ["\u0000\u0007", true, 'attachment; filename="download"'],
    ["..", true, 'attachment; filename="download"'],
    ["家.mp4", false, `inline; filename="_.mp4"; filename*=UTF-8''%E5%AE%B6.mp4`],
    ["a\u2028b.mp4", false, 'inline; filename="ab.mp4"'],
  ];
  for (const [filename, download, expected] of cases) {
    it(`${JSON.stringify(filename)} → ${expected}`, () => {
      const header = contentDisposition(filename, download);
      assert.equal(header, expected);
      assert.match(header, /^[\x20-\x7e]+$/); // printable ASCII only: no CR/LF or controls
    });
  }

  it("caps long names and survives lone surrogates", () => {
    const header = contentDisposition(`${"x".repeat(1000)}.mp4`, true);
    assert.ok(header.length < 260);
    const lone = contentDisposition("a\ud800b.mp4", true);
    assert.match(lone, /filename\*=UTF-8''a%EF%BF%BDb\.mp4/);
    // Only ASCII ever reaches the header.
    assert.match(lone, /^[\x20-\x7e]+$/);
  });
});
