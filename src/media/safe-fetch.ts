/**
 * HTTP(S) GET for user-supplied URLs (listing pages, photos) that cannot be turned against our own
 * network or resources (ABUSE 19–24):
 * - every URL, the first and each redirect target, goes through parseOutboundUrl (scheme, userinfo,
 *   port, IP literals) before anything is resolved or connected;
 * - names are resolved by our own lookup, and every returned address must pass the policy (one bad
 *   address refuses the whole name, so a name mixing public and private records is never used);
 * - after the TCP connection is up, the address actually connected to is checked again (DNS
 *   rebinding, resolver surprises) before a single request byte or TLS hello is sent;
 * - at most `maxRedirects` redirects (the next one is refused at that hop);
 * - connect, idle (no bytes for a while) and total deadlines; the total covers the body too;
 * - a byte cap on the wire bytes and on the decoded bytes, enforced while streaming, and a declared
 *   Content-Length above the cap is refused before the body is read. We ask for `identity`; a gzip,
 *   deflate or br body sent anyway is decoded under the same cap (a bomb stops at `maxBytes`).
 * Connections are never pooled or reused, and no cookies, credentials or referers are sent.
 * A POST (outbound partner webhooks) carries the caller's body and headers and never follows a
 * redirect: the 3xx comes back as the response, so a receiver cannot bounce us to another address.
 */
import { promises as dns } from "node:dns";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import { PassThrough, pipeline, type Readable, Transform, type TransformCallback } from "node:stream";
import tls from "node:tls";
import zlib from "node:zlib";
import { AppError, isAppError } from "../errors.js";
import {
  bareHostname,
  checkAddress,
  effectivePort,
  type OutboundPolicy,
  parseIp,
  parseOutboundUrl,
} from "./ssrf-guard.js";

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Resolves a host name to all of its addresses. Injectable so tests never need real DNS. */
export type HostResolver = (hostname: string) => Promise<ResolvedAddress[]>;

export interface SafeFetchOptions {
  policy: OutboundPolicy;
  /** Cap on the body, both as received and after any content decoding. */
  maxBytes: number;
  /** TCP connect (including name resolution) and TLS handshake. */
  connectTimeoutMs: number;
  /** Whole operation: every hop, and the body until its last byte has been read. */
  totalTimeoutMs: number;
  /** Longest silence on the socket once connected; defaults to connectTimeoutMs. */
  idleTimeoutMs?: number;
  maxRedirects?: number;
  accept?: string;
  /** GET (default) follows redirects; POST sends `body` and returns a 3xx as it is. */
  method?: "GET" | "POST";
  /** The request body of a POST. */
  body?: Buffer;
  /** Extra request headers (e.g. a webhook's signature); they cannot replace host, length or connection. */
  headers?: Readonly<Record<string, string>>;
  /** Refuse other response types before reading the body: exact types, or prefixes ending in "/". */
  allowedContentTypes?: readonly string[];
  signal?: AbortSignal;
  userAgent?: string;
  lookup?: HostResolver;
  /** Trusted certificate authorities (PEM) replacing the default store: for tests with a local TLS server. */
  ca?: string | Buffer;
}

export interface SafeFetchStreamResult {
  finalUrl: string;
  status: number;
  contentType: string | null;
  /** The declared length when the body is not content-encoded, otherwise null. */
  contentLength: number | null;
  /** Each redirect target followed, in order (the last one is finalUrl). */
  redirects: string[];
  /** Fails with an AppError (PAYLOAD_TOO_LARGE, TIMEOUT, FETCH_FAILED, CANCELLED) when a guarantee breaks. */
  body: Readable;
}

export interface SafeFetchResult {
  finalUrl: string;
  status: number;
  contentType: string | null;
  body: Buffer;
  redirects: string[];
}

const DEFAULT_MAX_REDIRECTS = 5;
const MAX_HEADER_BYTES = 16 * 1024;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const DEFAULT_USER_AGENT = "propvid-fetch/1";

const defaultResolver: HostResolver = async (hostname) => dns.lookup(hostname, { all: true, verbatim: true });

// ---------------------------------------------------------------------------------------------
// Errors

function fetchFailed(reason: string, transient: boolean, cause?: unknown): AppError {
  return new AppError("FETCH_FAILED", "The remote server could not be fetched", {
    details: { reason },
    transient,
    cause,
  });
}

function timeout(phase: "connect" | "idle" | "total"): AppError {
  return new AppError("TIMEOUT", "The remote server took too long", { details: { phase }, transient: true });
}

function tooLarge(limit: number): AppError {
  return new AppError("PAYLOAD_TOO_LARGE", "The remote body exceeds the size limit", { details: { limit } });
}

const TRANSIENT_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "ERR_STREAM_PREMATURE_CLOSE",
]);

/** Maps any error from sockets, TLS, the HTTP parser or zlib to an AppError without leaking internals. */
export function toFetchError(error: unknown): AppError {
  if (isAppError(error)) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const text = typeof code === "string" ? code : "UNKNOWN";
  if (text === "ENOTFOUND" || text === "ENODATA") return fetchFailed("host-not-found", false, error);
  if (TRANSIENT_CODES.has(text)) return fetchFailed("connection-failed", true, error);
  if (text.startsWith("HPE_")) return fetchFailed("invalid-http-response", false, error);
  if (text.startsWith("Z_") || text.startsWith("ERR_BROTLI") || text.startsWith("ERR__ERROR")) {
    return fetchFailed("invalid-content-encoding", false, error);
  }
  if (text.startsWith("ERR_TLS") || text.includes("CERT") || text.startsWith("ERR_SSL")) {
    return fetchFailed("tls-failed", false, error);
  }
  if ((error as Error | null)?.message === "aborted") return fetchFailed("connection-failed", true, error);
  return fetchFailed("fetch-failed", true, error);
}

// ---------------------------------------------------------------------------------------------
// Streams

/** Passes bytes through until more than `limit` have been seen. */
class ByteLimit extends Transform {
  private seen = 0;
  constructor(private readonly limit: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limit) callback(tooLarge(this.limit));
    else callback(null, chunk);
  }
}

/** The stream handed to callers: every error it emits is an AppError. */
class GuardedBody extends PassThrough {
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    callback(error ? toFetchError(error) : null);
  }
}

type Decoder = "identity" | "gzip" | "deflate" | "br";

function contentDecoder(header: string | undefined): Decoder | null {
  const value = (header ?? "").trim().toLowerCase();
  if (value === "" || value === "identity") return "identity";
  if (value === "gzip" || value === "x-gzip") return "gzip";
  if (value === "deflate") return "deflate";
  if (value === "br") return "br";
  return null; // stacked or unknown encodings are refused
}

function makeDecoder(kind: Exclude<Decoder, "identity">): Transform {
  // Small output chunks keep memory flat however well the input compresses.
  const chunkSize = 64 * 1024;
  if (kind === "gzip") return zlib.createGunzip({ chunkSize });
  if (kind === "deflate") return zlib.createInflate({ chunkSize });
  return zlib.createBrotliDecompress({ chunkSize });
}

function contentTypeAllowed(contentType: string | null, allowed: readonly string[]): boolean {
  const type = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  if (type === "") return false;
  return allowed.some((entry) => {
    const want = entry.toLowerCase();
    return want.endsWith("/") ? type.startsWith(want) : type === want;
  });
}

// ---------------------------------------------------------------------------------------------
// One fetch: state shared by its hops

class FetchSession {
  failure: AppError | null = null;
  private request: http.ClientRequest | null = null;
  private body: Readable | null = null;
  private socket: net.Socket | null = null;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly onAbort = (): void => this.fail(new AppError("CANCELLED", "The fetch was cancelled"));

  constructor(
    readonly options: SafeFetchOptions,
    readonly resolver: HostResolver,
  ) {
    this.timers.push(setTimeout(() => this.fail(timeout("total")), options.totalTimeoutMs));
    options.signal?.addEventListener("abort", this.onAbort, { once: true });
  }

  /** Records the first failure and tears down whatever is in flight. */
  fail(error: AppError): void {
    if (this.failure) return;
    this.failure = error;
    this.body?.destroy(error);
    this.request?.destroy(error);
    this.socket?.destroy(error);
  }

  trackSocket(socket: net.Socket): void {
    this.socket = socket;
  }

  track(request: http.ClientRequest | null, body: Readable | null = null): void {
    this.request = request;
    this.body = body;
  }

  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.options.signal?.removeEventListener("abort", this.onAbort);
    this.request = null;
    this.body = null;
    this.socket = null;
  }

  error(error: unknown): AppError {
    return this.failure ?? toFetchError(error);
  }
}

/** A lookup for net.connect that refuses a name when any of its addresses is not allowed. */
function guardedLookup(session: FetchSession, port: number): net.LookupFunction {
  return (hostname, options, callback) => {
    session
      .resolver(hostname)
      .then((all) => {
        if (all.length === 0) throw fetchFailed("host-not-found", false);
        for (const entry of all) {
          const refusal = checkAddress(entry.address, port, session.options.policy);
          if (refusal) throw refusal;
        }
        const family = options.family === "IPv4" ? 4 : options.family === "IPv6" ? 6 : (options.family ?? 0);
        const usable = family === 0 ? all : all.filter((entry) => entry.family === family);
        if (usable.length === 0) throw fetchFailed("host-not-found", false);
        if (options.all)
          callback(
            null,
            usable.map((entry) => ({ address: entry.address, family: entry.family })),
          );
        else callback(null, usable[0]!.address, usable[0]!.family);
      })
      .catch((error: unknown) => callback(toFetchError(error) as unknown as NodeJS.ErrnoException, ""));
  };
}

/**
 * Opens the connection for one hop: TCP through the guarded lookup, then the connected address is
 * checked, and only then TLS (for https) starts and the socket is handed to the HTTP client.
 */
function openConnection(
  session: FetchSession,
  url: URL,
  done: (error: Error | null, socket?: net.Socket) => void,
): void {
  const host = bareHostname(url);
  const port = effectivePort(url);
  const { connectTimeoutMs, policy, ca } = session.options;
  const socket = net.connect({ host, port, lookup: guardedLookup(session, port) });
  session.trackSocket(socket);
  let settled = false;
  const finish = (error: Error | null, result?: net.Socket): void => {
    clearTimeout(connectTimer);
    if (settled) return;
    settled = true;
    done(error, result);
  };
  const connectTimer = setTimeout(() => {
    const error = timeout("connect");
    socket.destroy(error);
    finish(error);
  }, connectTimeoutMs);
  // Stays attached: once the socket is handed over, the HTTP client (or TLS) reports its errors.
  socket.on("error", (error) => finish(error));
  socket.once("connect", () => {
    const refusal = checkAddress(socket.remoteAddress ?? "", port, policy);
    if (refusal) {
      socket.destroy();
      finish(refusal);
      return;
    }
    if (url.protocol !== "https:") {
      finish(null, socket);
      return;
    }
    const secure = tls.connect({
      socket,
      host,
      servername: parseIp(host) === null ? host : undefined, // SNI never names an address
      ALPNProtocols: ["http/1.1"],
      ca,
    });
    const handshakeTimer = setTimeout(() => secure.destroy(timeout("connect")), connectTimeoutMs);
    const stop = (): void => clearTimeout(handshakeTimer);
    secure.once("secureConnect", stop);
    secure.once("close", stop);
    session.trackSocket(secure);
    finish(null, secure);
  });
}

interface Hop {
  request: http.ClientRequest;
  response: http.IncomingMessage;
}

/** Sends one GET and resolves with the response head. */
function requestHop(session: FetchSession, url: URL): Promise<Hop> {
  const options = session.options;
  return new Promise((resolve, reject) => {
    const client = url.protocol === "https:" ? https : http;
    const request = client.request({
      method: options.method ?? "GET",
      host: bareHostname(url),
      port: effectivePort(url),
      path: `${url.pathname}${url.search}`,
      headers: {
        accept: options.accept ?? "*/*",
        "accept-encoding": "identity",
        "user-agent": options.userAgent ?? DEFAULT_USER_AGENT,
        ...options.headers,
        host: url.host,
        connection: "close",
        ...(options.body ? { "content-length": String(options.body.length) } : {}),
      },
      maxHeaderSize: MAX_HEADER_BYTES,
      createConnection: (_args, oncreate) => {
        openConnection(session, url, (error, socket) => {
          if (error) oncreate(session.error(error), undefined as unknown as net.Socket);
          else oncreate(null, socket!);
        });
        return undefined;
      },
    });
    session.track(request);
    request.setTimeout(options.idleTimeoutMs ?? options.connectTimeoutMs, () =>
      session.fail(timeout("idle")),
    );
    // Stays attached for the whole exchange; later errors are routed by guardBody.
    request.on("error", (error) => reject(session.error(error)));
    request.once("response", (response) => resolve({ request, response }));
    request.end(options.body);
  });
}

function validateOptions(options: SafeFetchOptions): void {
  const positive = (name: string, value: number | undefined): void => {
    if (value !== undefined && (!Number.isSafeInteger(value) || value <= 0)) {
      throw new RangeError(`safeFetch: ${name} must be a positive integer`);
    }
  };
  positive("maxBytes", options.maxBytes);
  positive("connectTimeoutMs", options.connectTimeoutMs);
  positive("totalTimeoutMs", options.totalTimeoutMs);
  positive("idleTimeoutMs", options.idleTimeoutMs);
  const redirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  if (!Number.isSafeInteger(redirects) || redirects < 0 || redirects > 20) {
    throw new RangeError("safeFetch: maxRedirects must be an integer from 0 to 20");
  }
}

/** Checks the head of the final response and wires its body through the caps. */
function guardBody(
  session: FetchSession,
  request: http.ClientRequest,
  response: http.IncomingMessage,
): Readable {
  const { maxBytes, allowedContentTypes } = session.options;
  const contentType = response.headers["content-type"] ?? null;
  if (allowedContentTypes && !contentTypeAllowed(contentType, allowedContentTypes)) {
    throw new AppError("UNSUPPORTED_MEDIA_TYPE", "The remote content type is not accepted", {
      details: { contentType: contentType?.slice(0, 100) ?? null },
    });
  }
  const decoder = contentDecoder(response.headers["content-encoding"]);
  if (decoder === null) throw fetchFailed("unsupported-content-encoding", false);
  const declared = response.headers["content-length"];
  if (declared !== undefined && (declared.length > 15 || Number(declared) > maxBytes))
    throw tooLarge(maxBytes);

  const body = new GuardedBody();
  const stages: Transform[] = [new ByteLimit(maxBytes)];
  if (decoder !== "identity") stages.push(makeDecoder(decoder), new ByteLimit(maxBytes));
  session.track(request, body);
  // Errors after the response has completed (bytes past a short Content-Length) change nothing.
  request.on("error", (error) => {
    if (!response.complete) body.destroy(session.error(error));
  });
  pipeline([response, ...stages, body], (error) => {
    if (error && !body.destroyed) body.destroy(session.error(error));
  });
  body.once("close", () => session.close());
  return body;
}

/**
 * Fetches `rawUrl` under the outbound policy and returns once the final response head has arrived.
 * The body streams with every guarantee still enforced (caps, idle and total deadlines, abort);
 * destroying it releases the connection. Non-2xx statuses are returned, not thrown.
 */
export async function safeFetchStream(
  rawUrl: string,
  options: SafeFetchOptions,
): Promise<SafeFetchStreamResult> {
  validateOptions(options);
  if (options.signal?.aborted) throw new AppError("CANCELLED", "The fetch was cancelled");
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  const session = new FetchSession(options, options.lookup ?? defaultResolver);
  try {
    let url = parseOutboundUrl(rawUrl, options.policy);
    const redirects: string[] = [];
    for (;;) {
      const { request, response } = await requestHop(session, url);
      const status = response.statusCode ?? 0;
      if (REDIRECT_STATUSES.has(status) && (options.method ?? "GET") === "GET") {
        const location = response.headers.location;
        response.destroy();
        if (!location) throw fetchFailed("redirect-without-location", false);
        if (redirects.length >= maxRedirects) {
          throw new AppError("URL_NOT_ALLOWED", "Too many redirects", {
            details: { reason: "too-many-redirects", limit: maxRedirects },
          });
        }
        let next: URL;
        try {
          next = new URL(location, url);
        } catch {
          throw new AppError("URL_NOT_ALLOWED", "This URL may not be fetched", {
            details: { reason: "invalid-url" },
          });
        }
        url = parseOutboundUrl(next.href, options.policy);
        redirects.push(url.href);
        continue;
      }
      let body: Readable;
      try {
        body = guardBody(session, request, response);
      } catch (error) {
        response.destroy();
        throw error;
      }
      const encoded = contentDecoder(response.headers["content-encoding"]) !== "identity";
      const declared = response.headers["content-length"];
      return {
        finalUrl: url.href,
        status,
        contentType: response.headers["content-type"] ?? null,
        contentLength: !encoded && declared !== undefined ? Number(declared) : null,
        redirects,
        body,
      };
    }
  } catch (error) {
    const failure = session.error(error);
    session.fail(failure);
    session.close();
    throw failure;
  }
}

/** Like safeFetchStream, but reads the whole (capped) body into memory. */
export async function safeFetch(rawUrl: string, options: SafeFetchOptions): Promise<SafeFetchResult> {
  const result = await safeFetchStream(rawUrl, options);
  const chunks: Buffer[] = [];
  for await (const chunk of result.body) chunks.push(chunk as Buffer);
  return {
    finalUrl: result.finalUrl,
    status: result.status,
    contentType: result.contentType,
    body: Buffer.concat(chunks),
    redirects: result.redirects,
  };
}
