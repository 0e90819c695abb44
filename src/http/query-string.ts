/**
 * Query strings as a server reads them, for the two places where the spelling matters: redacting
 * secrets in logs, and accepting a signed URL's `token`. A name is read the way common parsers
 * (Fastify's, qs, URLSearchParams) read it — percent-decoded, `+` as a space, a `[…]` suffix
 * dropped, case ignored — so that `%74oken`, `tok%65n`, `TOKEN` and `token[]` all count as `token`.
 */

export interface QueryParameter {
  /** The name exactly as sent (still percent-encoded). */
  raw: string;
  /** The name as a parser would understand it: decoded, lower case, without a `[…]` suffix. */
  name: string;
  /** Where the value starts in the query (after `=`), or -1 when the parameter has no `=`. */
  valueStart: number;
  /** Where the parameter ends (the next `&` or the end). */
  end: number;
}

/** The name a parser reads from a raw (percent-encoded) parameter name. */
export function parameterName(raw: string): string {
  // URLSearchParams does the decoding, leniently: a malformed %-sequence stays as written.
  const [decoded = ""] = new URLSearchParams(`${raw}=`).keys();
  return decoded
    .replace(/\[[^\]]*\]$/, "")
    .trim()
    .toLowerCase();
}

/** The parameters of a query string (without its `?`), in order, with their positions. */
export function queryParameters(query: string): QueryParameter[] {
  const parameters: QueryParameter[] = [];
  let start = 0;
  while (start <= query.length) {
    const amp = query.indexOf("&", start);
    const end = amp === -1 ? query.length : amp;
    if (end > start) {
      const eq = query.indexOf("=", start);
      const nameEnd = eq !== -1 && eq < end ? eq : end;
      const raw = query.slice(start, nameEnd);
      parameters.push({ raw, name: parameterName(raw), valueStart: nameEnd < end ? nameEnd + 1 : -1, end });
    }
    start = end + 1;
  }
  return parameters;
}

/** The query of a request target (`/path?query#…`), without `?`; empty when there is none. */
export function queryOf(target: string): string {
  const question = target.indexOf("?");
  if (question === -1) return "";
  const hash = target.indexOf("#", question);
  return target.slice(question + 1, hash === -1 ? undefined : hash);
}

export type SignedUrlToken = { kind: "none" } | { kind: "token"; token: string } | { kind: "refused" };

/**
 * The `token` of a signed URL, accepted only as the one canonical `token=` parameter. Any other
 * spelling a parser would also read as `token` (`%74oken`, `TOKEN`, `token[]`) or a repeated
 * token is refused: a token that logs or proxies might not recognise as one must not work.
 */
export function signedUrlToken(target: string): SignedUrlToken {
  const query = queryOf(target);
  const tokens = queryParameters(query).filter((parameter) => parameter.name === "token");
  if (tokens.length === 0) return { kind: "none" };
  const [only] = tokens;
  if (tokens.length > 1 || only!.raw !== "token" || only!.valueStart === -1) return { kind: "refused" };
  const value = query.slice(only!.valueStart, only!.end);
  // Tokens are `<digits>.<purpose>.<base64url>`: nothing in them needs percent-encoding.
  if (!/^[A-Za-z0-9._-]*$/.test(value)) return { kind: "refused" };
  return { kind: "token", token: value };
}
