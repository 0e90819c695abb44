/**
 * PostgreSQL's binary COPY format (https://www.postgresql.org/docs/current/sql-copy.html, "Binary
 * Format"): an 11-byte signature, int32 flags, int32 header-extension length and that many bytes;
 * then per tuple an int16 field count followed by (int32 length, bytes) per field, length -1
 * meaning NULL; then an int16 -1 trailer. All integers are big-endian.
 *
 * The decoder is incremental: chunks may split the stream anywhere, field data is handed out as
 * zero-copy slices of the input chunks (a field is never reassembled in memory), and only the
 * fixed-size integers that straddle a chunk boundary are copied into an 11-byte scratch buffer.
 */

export const COPY_BINARY_SIGNATURE: Buffer = Buffer.from("PGCOPY\n\xff\r\n\0", "latin1");

/** Flag bit 16: every tuple carries an OID (servers before PostgreSQL 12). */
const FLAG_HAS_OIDS = 1 << 16;
/** Bits 0–15 are critical: a reader must stop when it does not know one of them. */
const CRITICAL_FLAGS = 0xffff;

export class CopyBinaryFormatError extends Error {
  constructor(message: string) {
    super(`binary COPY stream: ${message}`);
    this.name = "CopyBinaryFormatError";
  }
}

type State =
  | "signature"
  | "flags"
  | "extension-length"
  | "extension"
  | "field-count"
  | "field-length"
  | "field-data"
  | "done";

const FIXED_SIZE: Partial<Record<State, number>> = {
  signature: COPY_BINARY_SIGNATURE.length,
  flags: 4,
  "extension-length": 4,
  "field-count": 2,
  "field-length": 4,
};

export interface CopyBinaryDecoderOptions {
  /** Reject tuples with another field count (e.g. 1 for `COPY (SELECT one_column) TO STDOUT`). */
  fieldsPerTuple?: number;
}

/**
 * Strips the framing of a binary COPY stream and hands out the bytes of every field, in order.
 * NULL fields are rejected: the concatenation of field bytes could not represent them.
 */
export class CopyBinaryDecoder {
  readonly #fieldsPerTuple: number | undefined;
  #state: State = "signature";
  readonly #scratch = Buffer.alloc(COPY_BINARY_SIGNATURE.length);
  #scratchLength = 0;
  /** Bytes still to come in the current field or header extension. */
  #remaining = 0;
  #fieldsLeft = 0;
  #tuples = 0;

  constructor(options: CopyBinaryDecoderOptions = {}) {
    this.#fieldsPerTuple = options.fieldsPerTuple;
  }

  /** Complete tuples decoded so far. */
  get tuples(): number {
    return this.#tuples;
  }

  /** True once the trailer has been read. */
  get finished(): boolean {
    return this.#state === "done";
  }

  /**
   * Decodes one chunk. `onData` receives slices of `chunk` (valid as long as `chunk` is); it is
   * called synchronously, in stream order. Throws CopyBinaryFormatError on malformed input.
   */
  write(chunk: Buffer, onData: (data: Buffer) => void): void {
    let pos = 0;
    while (pos < chunk.length) {
      const state = this.#state;
      if (state === "field-data" || state === "extension") {
        const n = Math.min(this.#remaining, chunk.length - pos);
        if (state === "field-data") onData(chunk.subarray(pos, pos + n));
        pos += n;
        this.#remaining -= n;
        if (this.#remaining === 0) {
          if (state === "field-data") this.#endField();
          else this.#state = "field-count";
        }
        continue;
      }
      if (state === "done") throw new CopyBinaryFormatError("data after the trailer");

      const size = FIXED_SIZE[state]!;
      if (this.#scratchLength === 0 && chunk.length - pos >= size) {
        // Fast path: the whole integer is inside this chunk.
        this.#onFixed(chunk, pos);
        pos += size;
        continue;
      }
      const n = Math.min(size - this.#scratchLength, chunk.length - pos);
      chunk.copy(this.#scratch, this.#scratchLength, pos, pos + n);
      this.#scratchLength += n;
      pos += n;
      if (this.#scratchLength === size) {
        this.#scratchLength = 0;
        this.#onFixed(this.#scratch, 0);
      }
    }
  }

  /** Call at the end of the input: throws unless the stream ended exactly after its trailer. */
  end(): void {
    if (this.#state !== "done") throw new CopyBinaryFormatError(`truncated (ended in state ${this.#state})`);
  }

  #onFixed(buffer: Buffer, offset: number): void {
    switch (this.#state) {
      case "signature":
        if (!COPY_BINARY_SIGNATURE.equals(buffer.subarray(offset, offset + COPY_BINARY_SIGNATURE.length))) {
          throw new CopyBinaryFormatError("bad signature");
        }
        this.#state = "flags";
        return;
      case "flags": {
        const flags = buffer.readUInt32BE(offset);
        if (flags & FLAG_HAS_OIDS) throw new CopyBinaryFormatError("tuples with OIDs are not supported");
        if (flags & CRITICAL_FLAGS)
          throw new CopyBinaryFormatError(`unknown critical flags ${flags & CRITICAL_FLAGS}`);
        this.#state = "extension-length";
        return;
      }
      case "extension-length":
        this.#remaining = buffer.readUInt32BE(offset);
        this.#state = this.#remaining === 0 ? "field-count" : "extension";
        return;
      case "field-count": {
        const count = buffer.readInt16BE(offset);
        if (count === -1) {
          this.#state = "done";
          return;
        }
        if (count < 0) throw new CopyBinaryFormatError(`bad field count ${count}`);
        if (this.#fieldsPerTuple !== undefined && count !== this.#fieldsPerTuple) {
          throw new CopyBinaryFormatError(`expected ${this.#fieldsPerTuple} fields per tuple, got ${count}`);
        }
        if (count === 0) {
          this.#tuples++;
          return;
        }
        this.#fieldsLeft = count;
        this.#state = "field-length";
        return;
      }
      case "field-length": {
        const length = buffer.readInt32BE(offset);
        if (length === -1) throw new CopyBinaryFormatError("unexpected NULL field");
        if (length < 0) throw new CopyBinaryFormatError(`bad field length ${length}`);
        this.#remaining = length;
        if (length === 0) this.#endField();
        else this.#state = "field-data";
        return;
      }
      default:
        throw new Error(`unreachable decoder state ${this.#state}`);
    }
  }

  #endField(): void {
    this.#fieldsLeft--;
    if (this.#fieldsLeft > 0) {
      this.#state = "field-length";
    } else {
      this.#tuples++;
      this.#state = "field-count";
    }
  }
}

/**
 * Encodes tuples in the binary COPY format (for `COPY … FROM STDIN (FORMAT binary)`, and to
 * build test streams). Fields are raw bytes in the column type's binary send format.
 */
export function encodeCopyBinary(tuples: readonly (readonly (Buffer | null)[])[]): Buffer {
  const parts: Buffer[] = [COPY_BINARY_SIGNATURE, Buffer.alloc(8)]; // flags 0, no extension
  for (const fields of tuples) {
    const count = Buffer.alloc(2);
    count.writeInt16BE(fields.length);
    parts.push(count);
    for (const field of fields) {
      const length = Buffer.alloc(4);
      length.writeInt32BE(field === null ? -1 : field.length);
      parts.push(length);
      if (field !== null) parts.push(field);
    }
  }
  parts.push(Buffer.from([0xff, 0xff]));
  return Buffer.concat(parts);
}
