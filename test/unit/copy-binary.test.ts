import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import {
  COPY_BINARY_SIGNATURE,
  CopyBinaryDecoder,
  CopyBinaryFormatError,
  encodeCopyBinary,
} from "../../src/media/copy-binary.js";

/** Feeds `stream` cut at `cuts` (sorted offsets) and returns the concatenated field bytes. */
function decodeSplit(
  stream: Buffer,
  cuts: number[],
  fieldsPerTuple?: number,
): { data: Buffer; tuples: number } {
  const decoder = new CopyBinaryDecoder({ fieldsPerTuple });
  const out: Buffer[] = [];
  let from = 0;
  for (const cut of [...cuts, stream.length]) {
    decoder.write(stream.subarray(from, cut), (piece) => out.push(Buffer.from(piece)));
    from = cut;
  }
  decoder.end();
  return { data: Buffer.concat(out), tuples: decoder.tuples };
}

/** A deterministic pseudo-random generator, so a failing split can be reproduced. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function randomCuts(length: number, count: number, random: () => number): number[] {
  const cuts = new Set<number>();
  while (cuts.size < Math.min(count, Math.max(0, length - 1)))
    cuts.add(1 + Math.floor(random() * (length - 1)));
  return [...cuts].sort((a, b) => a - b);
}

function withExtension(stream: Buffer, extension: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(extension.length);
  return Buffer.concat([stream.subarray(0, 15), length, extension, stream.subarray(19)]);
}

function withFlags(stream: Buffer, flags: number): Buffer {
  const copy = Buffer.from(stream);
  copy.writeUInt32BE(flags >>> 0, 11);
  return copy;
}

function assertFormatError(fn: () => void, pattern: RegExp): void {
  assert.throws(
    fn,
    (error: unknown) => error instanceof CopyBinaryFormatError && pattern.test(error.message),
  );
}

describe("CopyBinaryDecoder", () => {
  const fields = [Buffer.from("a"), Buffer.alloc(0), randomBytes(300), Buffer.from("tail")];
  const small = encodeCopyBinary(fields.map((field) => [field]));
  const expected = Buffer.concat(fields);

  it("decodes a stream in one chunk", () => {
    const { data, tuples } = decodeSplit(small, [], 1);
    assert.deepEqual(data, expected);
    assert.equal(tuples, 4);
  });

  it("decodes the same bytes for every single split point and every pair of split points", () => {
    for (let a = 1; a < small.length; a++) {
      assert.deepEqual(decodeSplit(small, [a]).data, expected, `split at ${a}`);
      for (let b = a + 1; b < small.length; b += 7) {
        assert.deepEqual(decodeSplit(small, [a, b]).data, expected, `split at ${a}, ${b}`);
      }
    }
  });

  it("decodes one byte at a time", () => {
    const cuts = Array.from({ length: small.length - 1 }, (_, i) => i + 1);
    assert.deepEqual(decodeSplit(small, cuts).data, expected);
  });

  it("decodes large tuples under random chunkings", () => {
    const random = prng(42);
    const big = Array.from({ length: 20 }, (_, i) =>
      randomBytes(i === 7 ? 0 : 1 + Math.floor(random() * 70_000)),
    );
    const stream = encodeCopyBinary(big.map((field) => [field]));
    const bigExpected = Buffer.concat(big);
    for (let round = 0; round < 50; round++) {
      const cuts = randomCuts(stream.length, 1 + Math.floor(random() * 200), random);
      const { data, tuples } = decodeSplit(stream, cuts, 1);
      assert.equal(tuples, big.length);
      assert.ok(data.equals(bigExpected), `round ${round}`);
    }
  });

  it("hands out slices of the input without copying field data", () => {
    const field = randomBytes(1000);
    const stream = encodeCopyBinary([[field]]);
    const pieces: Buffer[] = [];
    new CopyBinaryDecoder().write(stream, (piece) => pieces.push(piece));
    assert.equal(pieces.length, 1);
    assert.equal(pieces[0]!.buffer, stream.buffer);
  });

  it("concatenates every field of multi-field tuples and counts tuples", () => {
    const stream = encodeCopyBinary([
      [Buffer.from("ab"), Buffer.from("cd")],
      [Buffer.from("e"), Buffer.alloc(0)],
    ]);
    const { data, tuples } = decodeSplit(stream, [3, 20, 21]);
    assert.equal(data.toString(), "abcde");
    assert.equal(tuples, 2);
  });

  it("accepts an empty result and zero-field tuples", () => {
    assert.equal(decodeSplit(encodeCopyBinary([]), [5]).data.length, 0);
    assert.equal(decodeSplit(encodeCopyBinary([[], []]), []).tuples, 2);
  });

  it("skips a header extension, even one split across chunks", () => {
    const stream = withExtension(small, Buffer.from("future extension data"));
    for (let cut = 1; cut < 50; cut++) assert.deepEqual(decodeSplit(stream, [cut]).data, expected);
  });

  it("ignores non-critical flags", () => {
    assert.deepEqual(decodeSplit(withFlags(small, 1 << 20), [13]).data, expected);
  });

  it("rejects a bad signature", () => {
    const bad = Buffer.from(small);
    bad[5] = 0x58;
    assertFormatError(() => decodeSplit(bad, [3]), /bad signature/);
    assertFormatError(() => decodeSplit(Buffer.from("COPY 1\n"), []), /truncated/);
  });

  it("rejects OIDs and unknown critical flags", () => {
    assertFormatError(() => decodeSplit(withFlags(small, 1 << 16), []), /OIDs/);
    assertFormatError(() => decodeSplit(withFlags(small, 1), [12]), /critical flags/);
  });

  it("rejects NULL fields, bad lengths and unexpected field counts", () => {
    assertFormatError(() => decodeSplit(encodeCopyBinary([[Buffer.from("x")], [null]]), []), /NULL/);
    const negative = encodeCopyBinary([[Buffer.from("x")]]);
    negative.writeInt32BE(-5, 21);
    assertFormatError(() => decodeSplit(negative, []), /bad field length/);
    const badCount = encodeCopyBinary([[Buffer.from("x")]]);
    badCount.writeInt16BE(-3, 19);
    assertFormatError(() => decodeSplit(badCount, []), /bad field count/);
    assertFormatError(
      () => decodeSplit(encodeCopyBinary([[Buffer.from("x"), Buffer.from("y")]]), [], 1),
      /expected 1 fields per tuple, got 2/,
    );
  });

  it("rejects every truncation of a valid stream", () => {
    for (let length = 0; length < small.length; length++) {
      assertFormatError(() => decodeSplit(small.subarray(0, length), []), /truncated/);
    }
  });

  it("rejects data after the trailer", () => {
    assertFormatError(() => decodeSplit(Buffer.concat([small, Buffer.from([0])]), []), /after the trailer/);
    assertFormatError(() => decodeSplit(Buffer.concat([small, small]), [small.length]), /after the trailer/);
  });

  it("encodes the documented header", () => {
    const stream = encodeCopyBinary([]);
    assert.deepEqual(stream.subarray(0, 11), COPY_BINARY_SIGNATURE);
    assert.equal(stream.toString("latin1", 0, 11), "PGCOPY\n\xff\r\n\0");
    assert.deepEqual([...stream.subarray(11)], [0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]);
  });
});
