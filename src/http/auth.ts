import type { IncomingHttpHeaders } from "node:http";

/** The API key from `X-API-Key` or `Authorization: Bearer …`; undefined when neither is present. */
export function presentedApiKey(headers: IncomingHttpHeaders): string | undefined {
  const header = headers["x-api-key"];
  if (typeof header === "string" && header.length > 0) return header.trim();
  const authorization = headers.authorization;
  if (typeof authorization === "string") {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match) return match[1];
  }
  return undefined;
}
