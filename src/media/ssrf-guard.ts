/**
 * Pure outbound-address policy for fetching listing photos by URL (ABUSE 19–23). No DNS, no sockets:
 * `parseOutboundUrl` rejects what can be rejected from the URL alone, and `assertAddressAllowed`
 * is what safe-fetch applies to every resolved and every connected address.
 *
 * `allowLoopbackForTests` exists only so tests can fetch from servers on 127.0.0.1. It admits
 * 127.0.0.0/8 and ::1 (never any other private range) on any port. Configuration must expose it
 * only as an explicit test setting, never derive it from an environment default.
 */
import ipaddr from "ipaddr.js";
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
// Address parsing (ipaddr.js), strict: only the forms DNS answers and sockets report

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** The last group of an IPv6 text that holds a dot: an embedded IPv4 quad. */
const DOTTED_QUAD_TAIL = /^(.*:)([^:]*\.[^:]*)$/;

/**
 * Parses an IPv4 dotted quad (no octal, hex or short forms: URL parsing normalises those before
 * we see them) or an IPv6 address (brackets and a %zone allowed). Null for anything else.
 */
export function parseIp(text: string): Address | null {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text);
  let v6 = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  // ipaddr.js reads "::a.b.c.d" as IPv4-mapped and accepts octal/hex quads; we want the bytes as
  // written (deprecated IPv4-compatible ::/96 is its own class) and a strict quad.
  const tail = DOTTED_QUAD_TAIL.exec(v6.split("%")[0]!);
  if (tail) {
    if (!ipaddr.IPv4.isValidFourPartDecimal(tail[2]!)) return null;
    const [a, b, c, d] = ipaddr.IPv4.parse(tail[2]!).octets;
    v6 = `${tail[1]}${((a! << 8) | b!).toString(16)}:${((c! << 8) | d!).toString(16)}`;
  }
  return ipaddr.IPv6.isValid(v6) ? ipaddr.IPv6.parse(v6) : null;
}

// ---------------------------------------------------------------------------------------------
// Classification: the policy table (first match wins; anything unlisted is public)

type Policy<T extends Address> = readonly (readonly [range: [T, number], cls: AddressClass])[];

function table<T extends Address>(rows: readonly [cidr: string, cls: AddressClass][]): Policy<T> {
  return rows.map(([cidr, cls]) => [ipaddr.parseCIDR(cidr) as [T, number], cls] as const);
}

const IPV4_POLICY = table<ipaddr.IPv4>([
  ["0.0.0.0/32", "unspecified"],
  ["0.0.0.0/8", "reserved"], // "this network"
  ["10.0.0.0/8", "private"],
  ["100.64.0.0/10", "private"], // carrier-grade NAT
  ["127.0.0.0/8", "loopback"],
  ["169.254.0.0/16", "link-local"], // includes cloud metadata 169.254.169.254
  ["172.16.0.0/12", "private"],
  ["192.0.0.0/24", "reserved"], // IETF protocol assignments
  ["192.0.2.0/24", "reserved"], // TEST-NET-1
  ["192.88.99.0/24", "reserved"], // 6to4 relay anycast
  ["192.168.0.0/16", "private"],
  ["198.18.0.0/15", "reserved"], // benchmarking
  ["198.51.100.0/24", "reserved"], // TEST-NET-2
  ["203.0.113.0/24", "reserved"], // TEST-NET-3
  ["224.0.0.0/4", "multicast"],
  ["240.0.0.0/4", "reserved"], // includes broadcast 255.255.255.255
]);

/** Ranges whose IPv4 address (4 bytes from `at`) decides the class: as public as that address. */
const IPV6_EMBEDDING_V4: readonly { range: [ipaddr.IPv6, number]; at: number }[] = [
  { range: ipaddr.IPv6.parseCIDR("::ffff:0:0/96"), at: 12 }, // IPv4-mapped
  { range: ipaddr.IPv6.parseCIDR("64:ff9b::/96"), at: 12 }, // NAT64 well-known prefix
  { range: ipaddr.IPv6.parseCIDR("2002::/16"), at: 2 }, // 6to4: 2002:AABB:CCDD::/48
];

const IPV6_POLICY = table<ipaddr.IPv6>([
  ["::/128", "unspecified"],
  ["::1/128", "loopback"],
  ["::/96", "reserved"], // deprecated IPv4-compatible
  ["::ffff:0:0:0/96", "reserved"], // IPv4-translated (SIIT)
  ["64:ff9b:1::/48", "private"], // local-use NAT64
  ["100::/64", "reserved"], // discard-only
  ["2001::/23", "reserved"], // IETF protocol assignments, Teredo
  ["2001:db8::/32", "reserved"], // documentation
  ["3fff::/20", "reserved"], // documentation
  ["fc00::/7", "private"], // unique local
  ["fe80::/10", "link-local"],
  ["fec0::/10", "private"], // deprecated site-local
  ["ff00::/8", "multicast"],
]);

/** Only 2000::/3 is allocated as global unicast; everything else fails closed. */
const GLOBAL_UNICAST = ipaddr.IPv6.parseCIDR("2000::/3");

function lookUp<T extends Address>(address: T, policy: Policy<T>): AddressClass | null {
  for (const [range, cls] of policy) if (address.match(range)) return cls;
  return null;
}

function classifyIPv6(address: ipaddr.IPv6): AddressClass {
  for (const { range, at } of IPV6_EMBEDDING_V4) {
    if (address.match(range)) {
      const v4 = ipaddr.fromByteArray(address.toByteArray().slice(at, at + 4)) as ipaddr.IPv4;
      return lookUp(v4, IPV4_POLICY) ?? "public";
    }
  }
  return lookUp(address, IPV6_POLICY) ?? (address.match(GLOBAL_UNICAST) ? "public" : "reserved");
}

/**
 * Classifies an IP address literal (IPv4 dotted quad or IPv6, brackets and %zone allowed).
 * Anything that is not a valid address is "reserved", so callers fail closed.
 */
export function classifyAddress(ip: string): AddressClass {
  const address = parseIp(ip);
  if (address === null) return "reserved";
  return address.kind() === "ipv4"
    ? (lookUp(address as ipaddr.IPv4, IPV4_POLICY) ?? "public")
    : classifyIPv6(address as ipaddr.IPv6);
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
  if (parseIp(host) !== null) {
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
