import { type Logger, pino } from "pino";

export type { Logger };

/** Query-string parameters whose values are secrets (signed-URL tokens, keys). */
const SECRET_QUERY = /([?&](?:token|api_key|apikey|key|signature|sig)=)[^&#\s"]*/gi;

/** Removes secret values from any URL or text that may carry them. */
export function redactUrl(text: string): string {
  return text.replace(SECRET_QUERY, "$1[REDACTED]");
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

/** The one global: the root logger. Everything else gets a child. */
export function createLogger(options: {
  level: string;
  pretty?: boolean;
  destination?: NodeJS.WritableStream;
}): Logger {
  return pino(
    {
      level: options.level,
      redact: { paths: REDACT_PATHS, censor: "[REDACTED]" },
      serializers: {
        req(req: { method?: string; url?: string; id?: string }) {
          return { method: req.method, url: req.url ? redactUrl(req.url) : req.url, id: req.id };
        },
        err: pino.stdSerializers.err,
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
    options.destination as pino.DestinationStream | undefined,
  );
}

/** A silent logger for tests and library use. */
export const silentLogger: Logger = pino({ level: "silent" });
