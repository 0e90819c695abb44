/**
 * Pure outbound-address policy for fetching listing photos by URL (ABUSE 19–23). No DNS, no sockets:
 * `parseOutboundUrl` rejects what can be rejected from the URL alone, and `assertAddressAllowed`
 * is what safe-fetch applies to every resolved and every connected address.
 *
 * `allowLoopbackForTests` exists only so tests can fetch from servers on 127.0.0.1. It admits
 * 127.0.0.0/8 and ::1 (never any other private range) on any port. Configuration must expose it
 * only as an explicit test setting, never derive it from an environment default.
 */
import { AppError } from "../errors.js";

export type AddressClass =
  | "public"
  | "private"
  | "loopback"
  | "link-local"
  | "unspecified"
  | "multicast"
  | "reserved";

export interface OutboundPolicy {
  /** Ports a URL may name (the scheme's default port counts). Production: [80, 443]. */
  allowedPorts: readonly number[];
  /** Test-only: allow loopback destinations (127.0.0.0/8, ::1) on any port. */
  allowLoopbackForTests: boolean;
}

export const DEFAULT_OUTBOUND_POLICY: OutboundPolicy = Object.freeze({
  allowedPorts: Object.freeze([80, 443]),
  allowLoopbackForTests: false,
});

const MAX_URL_LENGTH = 4096;

// ---------------------------------------------------------------------------------------------
// Address parsing

/** Strict dotted-quad (what DNS answers and sockets report; URL parsing normalises other forms). */
export function parseIPv4(text: string): number[] | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const bytes: number[] = [];
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || (part.length > 1 && part[0] === "0")) return null;
    const n = Number(part);
    if (n > 255) return null;
    bytes.push(n);
  }
  return bytes;
}

/** RFC 4291 text form (with `::`, an embedded dotted quad, an optional %zone) → 16 bytes. */
export function parseIPv6(text: string): number[] | null {
  let s = text;
  if (s.startsWith("[") && s.endsWith("]")) s = s.slice(1, -1);
  const zone = s.indexOf("%");
  if (zone >= 0) s = s.slice(0, zone);
  if (s.length === 0 || s.length > 45) return null;

  // An embedded dotted quad (::ffff:1.2.3.4) becomes its two hex groups.
  const lastColon = s.lastIndexOf(":");
  if (lastColon >= 0 && s.indexOf(".", lastColon) >= 0) {
    const v4 = parseIPv4(s.slice(lastColon + 1));
    if (!v4) return null;
    const hi = ((v4[0]! << 8) | v4[1]!).toString(16);
    const lo = ((v4[2]! << 8) | v4[3]!).toString(16);
    s = `${s.slice(0, lastColon + 1)}${hi}:${lo}`;
  }

  const halves = s.split("::");
  if (halves.length > 2) return null;
  const parseGroups = (part: string): number[] | null => {
    if (part === "") return [];
    const groups: number[] = [];
    for (const g of part.split(":")) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      groups.push(Number.parseInt(g, 16));
    }
    return groups;
  };
  const head = parseGroups(halves[0]!);
  const rest = halves.length === 2 ? parseGroups(halves[1]!) : [];
  if (!head || !rest) return null;
  const total = head.length + rest.length;
  let groups: number[];
  if (halves.length === 2) {
    if (total > 7) return null;
    groups = [...head, ...new Array<number>(8 - total).fill(0), ...rest];
  } else {
    if (total !== 8) return null;
    groups = head;
  }
  return groups.flatMap((g) => [g >> 8, g & 0xff]);
}

// ---------------------------------------------------------------------------------------------
// Classification

type Cidr4 = readonly [a: number, b: number, c: number, d: number, bits: number, cls: AddressClass];

/** First match wins; anything unlisted is public. */
const IPV4_RANGES: readonly Cidr4[] = [
  [0, 0, 0, 0, 32, "unspecified"],
  [0, 0, 0, 0, 8, "reserved"], // "this network"
  [10, 0, 0, 0, 8, "private"],
  [100, 64, 0, 0, 10, "private"], // carrier-grade NAT
  [127, 0, 0, 0, 8, "loopback"],
  [169, 254, 0, 0, 16, "link-local"], // includes cloud metadata 169.254.169.254
  [172, 16, 0, 0, 12, "private"],
  [192, 0, 0, 0, 24, "reserved"], // IETF protocol assignments
  [192, 0, 2, 0, 24, "reserved"], // TEST-NET-1
  [192, 88, 99, 0, 24, "reserved"], // 6to4 relay anycast
  [192, 168, 0, 0, 16, "private"],
  [198, 18, 0, 0, 15, "reserved"], // benchmarking
  [198, 51, 100, 0, 24, "reserved"], // TEST-NET-2
  [203, 0, 113, 0, 24, "reserved"], // TEST-NET-3
  [224, 0, 0, 0, 4, "multicast"],
  [240, 0, 0, 0, 4, "reserved"], // includes broadcast 255.255.255.255
];

function inCidr(bytes: readonly number[], prefix: readonly number[], bits: number): boolean {
  for (let i = 0; i < prefix.length && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((bytes[i]! & mask) !== (prefix[i]! & mask)) return false;
  }
  return true;
}

function classifyIPv4(bytes: readonly number[]): AddressClass {
  for (const [a, b, c, d, bits, cls] of IPV4_RANGES) {
    if (inCidr(bytes, [a, b, c, d], bits)) return cls;
  }
  return "public";
}

const v6 = (text: string): number[] => parseIPv6(text)!;

/** Ranges whose last 32 bits are an IPv4 address that decides the class. */
const IPV6_EMBEDDING_V4: readonly { prefix: number[]; bits: number; at: number }[] = [
  { prefix: v6("::ffff:0:0"), bits: 96, at: 12 }, // IPv4-mapped
  { prefix: v6("64:ff9b::"), bits: 96, at: 12 }, // NAT64 well-known prefix
  { prefix: v6("2002::"), bits: 16, at: 2 }, // 6to4: 2002:AABB:CCDD::/48
];

const IPV6_RANGES: readonly { prefix: number[]; bits: number; cls: AddressClass }[] = [
  { prefix: v6("::"), bits: 128, cls: "unspecified" },
  { prefix: v6("::1"), bits: 128, cls: "loopback" },
  { prefix: v6("::"), bits: 96, cls: "reserved" }, // deprecated IPv4-compatible
  { prefix: v6("::ffff:0:0:0"), bits: 96, cls: "reserved" }, // IPv4-translated (SIIT)
  { prefix: v6("64:ff9b:1::"), bits: 48, cls: "private" }, // local-use NAT64
  { prefix: v6("100::"), bits: 64, cls: "reserved" }, // discard-only
  { prefix: v6("2001::"), bits: 23, cls: "reserved" }, // IETF protocol assignments, Teredo
  { prefix: v6("2001:db8::"), bits: 32, cls: "reserved" }, // documentation
  { prefix: v6("3fff::"), bits: 20, cls: "reserved" }, // documentation
  { prefix: v6("fc00::"), bits: 7, cls: "private" }, // unique local
  { prefix: v6("fe80::"), bits: 10, cls: "link-local" },
  { prefix: v6("fec0::"), bits: 10, cls: "private" }, // deprecated site-local
  { prefix: v6("ff00::"), bits: 8, cls: "multicast" },
];

const GLOBAL_UNICAST = v6("2000::");

function classifyIPv6(bytes: readonly number[]): AddressClass {
  for (const { prefix, bits, at } of IPV6_EMBEDDING_V4) {
    if (inCidr(bytes, prefix, bits)) {
      const inner = classifyIPv4(bytes.slice(at, at + 4));
      // A public IPv4 inside 6to4/NAT64 is still only as public as the IPv4 address.
      return inner;
    }
  }
  for (const { prefix, bits, cls } of IPV6_RANGES) {
    if (inCidr(bytes, prefix, bits)) return cls;
  }
  // Only 2000::/3 is allocated as global unicast; everything else fails closed.
  return inCidr(bytes, GLOBAL_UNICAST, 3) ? "public" : "reserved";
}

/**
 * Classifies an IP address literal (IPv4 dotted quad or IPv6, brackets and %zone allowed).
 * Anything that is not a valid address is "reserved", so callers fail closed.
 */
export function classifyAddress(ip: string): AddressClass {
  const v4 = parseIPv4(ip);
  if (v4) return classifyIPv4(v4);
  const v6bytes = ip.includes(":") ? parseIPv6(ip) : null;
  if (v6bytes) return classifyIPv6(v6bytes);
  return "reserved";
}

// ---------------------------------------------------------------------------------------------
// Policy

function notAllowed(reason: string, details: Record<string, unknown> = {}): AppError {
  return new AppError("URL_NOT_ALLOWED", "This URL may not be fetched", { details: { reason, ...details } });
}

/** Whether a destination address may be contacted on `port`; returns the refusal otherwise. */
export function checkAddress(address: string, port: number, policy: OutboundPolicy): AppError | null {
  const cls = classifyAddress(address);
  const loopbackForTests = policy.allowLoopbackForTests && cls === "loopback";
  if (cls !== "public" && !loopbackForTests) return notAllowed("address-not-public", { addressClass: cls });
  if (!policy.allowedPorts.includes(port) && !loopbackForTests)
    return notAllowed("port-not-allowed", { port });
  return null;
}

/** Throws URL_NOT_ALLOWED unless `address` may be contacted on `port`. */
export function assertAddressAllowed(address: string, port: number, policy: OutboundPolicy): void {
  const refusal = checkAddress(address, port, policy);
  if (refusal) throw refusal;
}

/** The port a parsed http(s) URL connects to. */
export function effectivePort(url: URL): number {
  if (url.port !== "") return Number(url.port);
  return url.protocol === "https:" ? 443 : 80;
}

/** The URL's host as a bare name or address (no IPv6 brackets, no trailing dot). */
export function bareHostname(url: URL): string {
  const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  return host.endsWith(".") ? host.slice(0, -1) : host;
}

function isIpLiteral(host: string): boolean {
  return parseIPv4(host) !== null || (host.includes(":") && parseIPv6(host) !== null);
}

/**
 * Parses a user-supplied URL and rejects, before any DNS lookup or connection: schemes other than
 * http/https, credentials in the URL, ports outside the policy, IP literals that are not public
 * (every encoding: WHATWG URL parsing turns 127.1, 0177.0.0.1, 0x7f000001 and 2130706433 into
 * 127.0.0.1, and [::ffff:127.0.0.1] into [::ffff:7f00:1], which is then classified), and
 * `localhost` names. Names are checked again, address by address, when they resolve.
 */
export function parseOutboundUrl(raw: string, policy: OutboundPolicy): URL {
  if (typeof raw !== "string" || raw.length === 0 || raw.length > MAX_URL_LENGTH) {
    throw notAllowed("invalid-url");
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw notAllowed("invalid-url");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw notAllowed("scheme-not-allowed", { scheme: url.protocol.slice(0, -1).slice(0, 20) });
  }
  if (url.username !== "" || url.password !== "") throw notAllowed("credentials-in-url");

  const host = bareHostname(url);
  if (host === "") throw notAllowed("invalid-url");
  const port = effectivePort(url);
  if (isIpLiteral(host)) {
    assertAddressAllowed(host, port, policy);
  } else {
    const lower = host.toLowerCase();
    if ((lower === "localhost" || lower.endsWith(".localhost")) && !policy.allowLoopbackForTests) {
      throw notAllowed("address-not-public", { addressClass: "loopback" });
    }
    // For names the final port check happens per resolved address (loopback may use any port in tests).
    if (!policy.allowedPorts.includes(port) && !policy.allowLoopbackForTests) {
      throw notAllowed("port-not-allowed", { port });
    }
  }
  url.hash = "";
  return url;
}
