import { writeSync } from "node:fs";
import { type DestinationStream, type Logger, pino } from "pino";
import sonicBoom, { type SonicBoom as SonicBoomStream } from "sonic-boom";
import { queryParameters } from "./http/query-string.js";

export type { Logger };

// sonic-boom is CommonJS whose typings declare an ES default export: the runtime default is the class.
const SonicBoom = sonicBoom as unknown as typeof SonicBoomStream;

/** Query parameters whose values are secrets, by the name a parser reads (see query-string.ts). */
const SECRET_PARAMETERS = new Set([
  "token",
  "api_key",
  "apikey",
  "api-key",
  "x-api-key",
  "key",
  "access_token",
  "signature",
  "sig",
  "secret",
  "password",
]);

/** A query component inside free text: from `?` to whitespace, a quote, `<`, `>` or `#`. */
const QUERY_IN_TEXT = /\?[^\s"'<>#]*/g;
/** An API key wherever it appears: its public prefix stays readable, the secret part does not. */
const API_KEY_IN_TEXT = /\b(pv_[0-9a-f]{10}_)[A-Za-z0-9_-]{8,}/g;
const REDACTED = "[REDACTED]";

/** Replaces the values of secret parameters in one query string (without its `?`). */
function redactQuery(query: string): string {
  let out = "";
  let last = 0;
  for (const parameter of queryParameters(query)) {
    if (!SECRET_PARAMETERS.has(parameter.name) || parameter.valueStart === -1) continue;
    out += `${query.slice(last, parameter.valueStart)}${REDACTED}`;
    last = parameter.end;
  }
  return out + query.slice(last);
}

/**
 * Removes secrets from any URL or text: the value of every parameter a server would read as a
 * secret (however its name is spelled or encoded), and anything shaped like an API key.
 */
export function redactUrl(text: string): string {
  return text
    .replace(QUERY_IN_TEXT, (query) => `?${redactQuery(query.slice(1))}`)
    .replace(API_KEY_IN_TEXT, `$1${REDACTED}`);
}

export const REDACT_PATHS = [
  "req.headers.authorization",
  "req.headers['x-api-key']",
  "req.headers.cookie",
  "headers.authorization",
  "headers['x-api-key']",
  "apiKey",
  "*.apiKey",
  "token",
  "*.token",
  "secret",
  "*.secret",
];

/**
 * Log lines held while the reader of stdout is not reading. Past this, lines are dropped and
 * counted instead of piling up in memory (a stalled log pipe must not take the server with it).
 */
export const LOG_BUFFER_BYTES = 4 * 1024 * 1024;
/** How long flushing at exit may wait for a reader that is not reading. */
export const EXIT_FLUSH_MS = 2_000;

/**
 * Where log lines go: a non-blocking writer on a file descriptor with a bounded buffer. Lines
 * that do not fit are dropped and counted; `flush` waits at most a deadline.
 */
export class LogSink {
  readonly stream: SonicBoomStream;
  #dropped = 0;
  #reported = 0;
  #onDropped: ((lines: number) => void) | undefined;
  #retryUntil = Number.POSITIVE_INFINITY;
  /** When set (a shutdown's deadline), the flush at exit never waits past it. */
  exitDeadline: number | undefined;

  constructor(
    readonly fd: number,
    maxBufferBytes = LOG_BUFFER_BYTES,
  ) {
    // For a pipe, creating process.stdout/stderr switches the descriptor to non-blocking mode.
    // Left blocking, a write to a pipe nobody reads would block a thread (and at exit, the
    // process) for ever; non-blocking, it fails with EAGAIN and we decide what to do.
    if (fd === 1) void process.stdout;
    if (fd === 2) void process.stderr;
    this.stream = new SonicBoom({
      fd,
      sync: false,
      maxLength: maxBufferBytes,
      retryEAGAIN: () => Date.now() < this.#retryUntil,
    });
    this.stream.on("drop", () => {
      this.#dropped++;
    });
    this.stream.on("drain", () => this.#reportDrops());
    // A closed reader (EPIPE) or a deadline passed: nothing more can be written; stop trying.
    this.stream.on("error", () => {
      this.stream.write = () => true;
    });
  }

  /** Lines dropped so far because the buffer was full. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Called (once the buffer has emptied again) with how many lines were dropped meanwhile. */
  onDropped(report: (lines: number) => void): void {
    this.#onDropped = report;
  }

  #reportDrops(): void {
    const lines = this.#dropped - this.#reported;
    if (lines === 0 || !this.#onDropped) return;
    this.#reported = this.#dropped;
    this.#onDropped(lines);
  }

  /** Bytes written to the sink and not yet to the descriptor. */
  get pendingBytes(): number {
    return (this.stream as unknown as { _len: number })._len;
  }

  /** Waits until everything buffered is written, at most `timeoutMs`; false when it gave up. */
  async flush(timeoutMs: number): Promise<boolean> {
    if (this.pendingBytes === 0) return true;
    return await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.stream.off("drain", onDrain);
        resolve(false);
      }, timeoutMs);
      const onDrain = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.stream.once("drain", onDrain);
    });
  }

  /**
   * The last flush, at process exit (no event loop left): writes synchronously, retrying a full
   * pipe until `timeoutMs` has passed, then gives up. Returns the bytes left unwritten.
   */
  flushAtExit(timeoutMs = EXIT_FLUSH_MS): number {
    if (this.pendingBytes === 0) return 0;
    this.#retryUntil = Math.min(Date.now() + timeoutMs, this.exitDeadline ?? Number.POSITIVE_INFINITY);
    try {
      this.stream.flushSync();
    } catch {
      // EAGAIN past the deadline, or EPIPE: what is left is lost, and said so on stderr.
    }
    return this.pendingBytes;
  }
}

/** Writes one line to stderr without ever blocking (a full pipe loses it). */
export function writeStderrLine(line: string): void {
  void process.stderr; // non-blocking, as above
  try {
    writeSync(2, `${line}\n`);
  } catch {
    // nothing more we can do
  }
}

let stdoutSink: LogSink | undefined;

/** The one sink on stdout, flushed (with a deadline) when the process exits. */
export function stdoutLogSink(): LogSink {
  if (!stdoutSink) {
    const sink = new LogSink(1);
    stdoutSink = sink;
    process.once("exit", () => {
      const left = sink.flushAtExit();
      if (left > 0 || sink.dropped > 0) {
        writeStderrLine(
          `propvid: stdout was not being read: ${sink.dropped} log lines dropped, ${left} bytes of log not written at exit`,
        );
      }
    });
  }
  return stdoutSink;
}

/** The one global: the root logger. Everything else gets a child. */
export function createLogger(options: {
  level: string;
  pretty?: boolean;
  /** A stream of our own (e.g. stderr for one-shot commands); default: the bounded stdout sink. */
  destination?: NodeJS.WritableStream | LogSink;
}): Logger {
  const sink =
    options.destination instanceof LogSink
      ? options.destination
      : options.destination
        ? undefined
        : stdoutLogSink();
  const logger = pino(
    {
      level: options.level,
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      serializers: {
        req(req: { method?: string; url?: string; id?: string }) {
          return { method: req.method, url: req.url ? redactUrl(req.url) : req.url, id: req.id };
        },
        err: pino.stdSerializers.err,
      },
      formatters: {
        // A URL with a token can sit in any field (`url`, `source`, an error message).
        log(object) {
          let redacted: Record<string, unknown> | undefined;
          for (const [name, value] of Object.entries(object)) {
            if (typeof value !== "string") continue;
            const clean = redactUrl(value);
            if (clean === value) continue;
            redacted ??= { ...object };
            redacted[name] = clean;
          }
          return redacted ?? object;
        },
      },
      hooks: {
        // Redact secrets that slipped into a log message itself (for example a URL).
        logMethod(args, method) {
          for (let i = 0; i < args.length; i++) {
            if (typeof args[i] === "string") args[i] = redactUrl(args[i] as string);
          }
          return method.apply(this, args as Parameters<typeof method>);
        },
      },
    },
    (sink?.stream ?? options.destination) as DestinationStream | undefined,
  );
  sink?.onDropped((lines) =>
    logger.warn({ droppedLines: lines }, "log lines were dropped while stdout was not being read"),
  );
  return logger;
}

/** A silent logger for tests and library use. */
export const silentLogger: Logger = pino({ level: "silent" });
