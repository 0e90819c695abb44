import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AppError } from "../../src/errors.js";
import {
  type AddressClass,
  assertAddressAllowed,
  classifyAddress,
  DEFAULT_OUTBOUND_POLICY,
  type OutboundPolicy,
  parseIp,
  parseOutboundUrl,
} from "../../src/media/ssrf-guard.js";

const PROD: OutboundPolicy = DEFAULT_OUTBOUND_POLICY;
const TESTS: OutboundPolicy = { allowedPorts: [80, 443], allowLoopbackForTests: true };

function refusal(fn: () => unknown): Record<string, unknown> {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof AppError, `expected AppError, got ${String(error)}`);
    assert.equal(error.code, "URL_NOT_ALLOWED");
    return error.details ?? {};
  }
  assert.fail("expected URL_NOT_ALLOWED");
}

describe("classifyAddress", () => {
  const cases: [ip: string, expected: AddressClass][] = [
    // IPv4
    ["8.8.8.8", "public"],
    ["93.184.216.34", "public"],
    ["1.1.1.1", "public"],
    ["0.0.0.0", "unspecified"],
    ["0.1.2.3", "reserved"],
    ["10.0.0.1", "private"],
    ["10.255.255.255", "private"],
    ["100.63.255.255", "public"],
    ["100.64.0.1", "private"], // CGNAT
    ["100.127.255.255", "private"],
    ["100.128.0.0", "public"],
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["169.254.169.254", "link-local"], // cloud metadata
    ["169.254.0.1", "link-local"],
    ["172.15.255.255", "public"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["172.32.0.0", "public"],
    ["192.0.0.8", "reserved"],
    ["192.0.0.170", "reserved"],
    ["192.0.2.1", "reserved"],
    ["192.88.99.1", "reserved"],
    ["192.168.0.1", "private"],
    ["192.168.255.255", "private"],
    ["198.18.0.1", "reserved"],
    ["198.19.255.255", "reserved"],
    ["198.20.0.0", "public"],
    ["198.51.100.7", "reserved"],
    ["203.0.113.9", "reserved"],
    ["224.0.0.1", "multicast"],
    ["239.255.255.250", "multicast"],
    ["240.0.0.1", "reserved"],
    ["255.255.255.255", "reserved"], // broadcast
    // IPv6
    ["::", "unspecified"],
    ["::1", "loopback"],
    ["0:0:0:0:0:0:0:1", "loopback"],
    ["[::1]", "loopback"],
    ["::ffff:127.0.0.1", "loopback"], // IPv4-mapped
    ["::ffff:7f00:1", "loopback"],
    ["::ffff:10.1.2.3", "private"],
    ["::ffff:169.254.169.254", "link-local"],
    ["::ffff:8.8.8.8", "public"],
    ["::127.0.0.1", "reserved"], // deprecated IPv4-compatible
    ["::ffff:0:127.0.0.1", "reserved"], // IPv4-translated
    ["64:ff9b::127.0.0.1", "loopback"], // NAT64
    ["64:ff9b::a00:1", "private"],
    ["64:ff9b::808:808", "public"],
    ["64:ff9b:1::1", "private"],
    ["2002:7f00:1::", "loopback"], // 6to4 of 127.0.0.1
    ["2002:a9fe:a9fe::1", "link-local"], // 6to4 of 169.254.169.254
    ["2002:c0a8:101::", "private"],
    ["2002:808:808::1", "public"],
    ["fc00::1", "private"],
    ["fd00::", "private"],
    ["fdff:ffff::1", "private"],
    ["fe80::1", "link-local"],
    ["fe80::1%eth0", "link-local"],
    ["febf::1", "link-local"],
    ["fec0::1", "private"],
    ["ff02::1", "multicast"],
    ["ff0e::1", "multicast"],
    ["100::1", "reserved"],
    ["2001:db8::1", "reserved"],
    ["2001::1", "reserved"], // Teredo
    ["3fff::1", "reserved"],
    ["2606:4700:4700::1111", "public"],
    ["2a00:1450:4001:82a::200e", "public"],
    ["4000::1", "reserved"], // outside 2000::/3
    // not addresses: fail closed
    ["", "reserved"],
    ["localhost", "reserved"],
    ["127.1", "reserved"],
    ["0177.0.0.1", "reserved"],
    ["2130706433", "reserved"],
    ["0x7f000001", "reserved"],
    ["1.2.3.256", "reserved"],
    ["1::2::3", "reserved"],
    ["1:2:3:4:5:6:7:8:9", "reserved"],
    ["::ffff:1.2.3", "reserved"],
    ["12345::", "reserved"],
  ];
  for (const [ip, expected] of cases) {
    it(`${JSON.stringify(ip)} → ${expected}`, () => assert.equal(classifyAddress(ip), expected));
  }

  it("parses IPv6 text forms to the same bytes", () => {
    const bytes = (text: string) => parseIp(text)?.toByteArray() ?? null;
    assert.deepEqual(bytes("::ffff:127.0.0.1"), bytes("0:0:0:0:0:ffff:7f00:0001"));
    assert.deepEqual(bytes("::127.0.0.1"), [...new Array(12).fill(0), 127, 0, 0, 1]);
    assert.deepEqual(bytes("1::"), [0, 1, ...new Array(14).fill(0)]);
    assert.equal(bytes(":::"), null);
    assert.equal(bytes("1:2:3:4:5:6:7::8"), null);
    assert.equal(bytes("::ffff:0x7f.0.0.1"), null, "no hex quads inside IPv6");
    assert.equal(bytes("::ffff:127.000.0.1"), null, "no leading zeros inside IPv6");
  });
});

describe("assertAddressAllowed", () => {
  it("allows public addresses on allowed ports only", () => {
    assert.doesNotThrow(() => assertAddressAllowed("8.8.8.8", 443, PROD));
    assert.equal(refusal(() => assertAddressAllowed("8.8.8.8", 8080, PROD)).reason, "port-not-allowed");
  });

  it("lets the test flag through loopback on any port, and nothing else private", () => {
    assert.doesNotThrow(() => assertAddressAllowed("127.0.0.1", 54321, TESTS));
    assert.doesNotThrow(() => assertAddressAllowed("::1", 54321, TESTS));
    assert.doesNotThrow(() => assertAddressAllowed("::ffff:127.0.0.1", 80, TESTS));
    for (const ip of ["10.0.0.1", "192.168.1.1", "169.254.169.254", "fd00::1", "fe80::1", "0.0.0.0", "::"]) {
      assert.equal(refusal(() => assertAddressAllowed(ip, 80, TESTS)).reason, "address-not-public", ip);
    }
    assert.equal(refusal(() => assertAddressAllowed("8.8.8.8", 8080, TESTS)).reason, "port-not-allowed");
    assert.equal(refusal(() => assertAddressAllowed("127.0.0.1", 80, PROD)).reason, "address-not-public");
  });
});

describe("parseOutboundUrl", () => {
  it("accepts ordinary public URLs and drops the fragment", () => {
    const url = parseOutboundUrl("https://photos.example.com/a/b.jpg?w=1200#x", PROD);
    assert.equal(url.href, "https://photos.example.com/a/b.jpg?w=1200");
    assert.equal(parseOutboundUrl("http://93.184.216.34/x.jpg", PROD).hostname, "93.184.216.34");
    assert.equal(parseOutboundUrl("http://[2606:4700:4700::1111]/", PROD).hostname, "[2606:4700:4700::1111]");
    assert.equal(parseOutboundUrl("http://example.com:443/", PROD).port, "443");
  });

  // ABUSE 19: literal internal targets; ABUSE 20: encoded forms (WHATWG URL normalises them first).
  const blocked: [url: string, reason: string][] = [
    ["http://127.0.0.1/", "address-not-public"],
    ["http://127.0.0.1:80/", "address-not-public"],
    ["http://10.0.0.1/", "address-not-public"],
    ["http://172.16.0.1/", "address-not-public"],
    ["http://172.31.255.254/", "address-not-public"],
    ["http://192.168.1.1/", "address-not-public"],
    ["http://169.254.169.254/latest/meta-data/", "address-not-public"],
    ["http://0.0.0.0/", "address-not-public"],
    ["http://0/", "address-not-public"],
    ["http://100.64.0.1/", "address-not-public"],
    ["http://[::1]/", "address-not-public"],
    ["http://[::]/", "address-not-public"],
    ["http://[fd00::]/", "address-not-public"],
    ["http://[fd12:3456::1]/", "address-not-public"],
    ["http://[fe80::1]/", "address-not-public"],
    ["http://127.1/", "address-not-public"],
    ["http://127.0.1/", "address-not-public"],
    ["http://0177.0.0.1/", "address-not-public"],
    ["http://0x7f.0.0.1/", "address-not-public"],
    ["http://0x7f000001/", "address-not-public"],
    ["http://2130706433/", "address-not-public"],
    ["http://017700000001/", "address-not-public"],
    ["http://%31%32%37.0.0.1/", "address-not-public"],
    ["http://127。0。0。1/", "address-not-public"],
    ["http://0xa9fea9fe/", "address-not-public"], // 169.254.169.254
    ["http://[::ffff:127.0.0.1]/", "address-not-public"],
    ["http://[0:0:0:0:0:ffff:7f00:1]/", "address-not-public"],
    ["http://[::ffff:169.254.169.254]/", "address-not-public"],
    ["http://[64:ff9b::a9fe:a9fe]/", "address-not-public"],
    ["http://[2002:7f00:1::1]/", "address-not-public"],
    ["http:\\\\127.0.0.1\\x", "address-not-public"],
    ["HTTP://127.0.0.1/", "address-not-public"],
    ["http://localhost/", "address-not-public"],
    ["http://LOCALHOST./", "address-not-public"],
    ["http://photos.localhost/", "address-not-public"],
    // user@host tricks
    ["http://user@example.com/", "credentials-in-url"],
    ["http://user:pass@example.com/", "credentials-in-url"],
    ["http://example.com@127.0.0.1/", "credentials-in-url"],
    ["http://user@evil.com@127.0.0.1/", "credentials-in-url"],
    ["http://127.0.0.1%2f@example.com/", "credentials-in-url"],
    // ABUSE 23: schemes and ports
    ["file:///etc/passwd", "scheme-not-allowed"],
    ["ftp://example.com/a.jpg", "scheme-not-allowed"],
    ["gopher://example.com:70/_x", "scheme-not-allowed"],
    ["data:image/png;base64,AAAA", "scheme-not-allowed"],
    ["javascript:alert(1)", "scheme-not-allowed"],
    ["ws://example.com/", "scheme-not-allowed"],
    ["dict://example.com:11211/", "scheme-not-allowed"],
    ["http://example.com:8080/", "port-not-allowed"],
    ["http://example.com:22/", "port-not-allowed"],
    ["https://example.com:6379/", "port-not-allowed"],
    ["http://8.8.8.8:25/", "port-not-allowed"],
    // not URLs
    ["", "invalid-url"],
    ["example.com/a.jpg", "invalid-url"],
    ["http://", "invalid-url"],
    ["http://1.2.3.4.5/", "invalid-url"],
    ["http://[fe80::1%25eth0]/", "invalid-url"],
    [`https://example.com/${"a".repeat(5000)}`, "invalid-url"],
  ];
  for (const [url, reason] of blocked) {
    it(`${url.slice(0, 60)} → ${reason}`, () => {
      assert.equal(refusal(() => parseOutboundUrl(url, PROD)).reason, reason);
    });
  }

  it("with the test flag, admits loopback on any port and nothing else internal", () => {
    assert.equal(parseOutboundUrl("http://127.0.0.1:54321/p.jpg", TESTS).port, "54321");
    assert.equal(parseOutboundUrl("http://[::1]:54321/p.jpg", TESTS).hostname, "[::1]");
    assert.equal(parseOutboundUrl("http://localhost:54321/p.jpg", TESTS).hostname, "localhost");
    for (const url of [
      "http://10.0.0.1/",
      "http://169.254.169.254/",
      "http://[fd00::]/",
      "http://[fe80::1]/",
    ]) {
      assert.equal(refusal(() => parseOutboundUrl(url, TESTS)).reason, "address-not-public", url);
    }
    assert.equal(refusal(() => parseOutboundUrl("file:///etc/passwd", TESTS)).reason, "scheme-not-allowed");
    assert.equal(
      refusal(() => parseOutboundUrl("http://u@127.0.0.1:1/", TESTS)).reason,
      "credentials-in-url",
    );
  });

  it("honours configured extra ports", () => {
    const policy: OutboundPolicy = { allowedPorts: [80, 443, 8443], allowLoopbackForTests: false };
    assert.equal(parseOutboundUrl("https://example.com:8443/", policy).port, "8443");
  });

  it("never names the URL in the error (it may carry a token)", () => {
    try {
      parseOutboundUrl("http://10.0.0.1/?token=abc", PROD);
      assert.fail("expected a refusal");
    } catch (error) {
      assert.doesNotMatch(
        JSON.stringify({ m: (error as Error).message, d: (error as AppError).details }),
        /abc/,
      );
    }
  });
});
