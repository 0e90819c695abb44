import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AppError } from "../../src/errors.js";
import { sniffBrandImage } from "../../src/render/brand-image.js";
import { sanitiseSvg } from "../../src/render/svg-sanitiser.js";

const svg = (inner: string, root = 'viewBox="0 0 100 50"') =>
  `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" ${root}>${inner}</svg>`;

/** The classic "billion laughs": ten levels of ten references. */
const BILLION_LAUGHS = `<?xml version="1.0"?>
<!DOCTYPE svg [
  <!ENTITY lol "lol">
  ${Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i || ""};`.repeat(10)}">`).join("\n  ")}
]>
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><desc>&lol9;</desc></svg>`;

function refusedWith(pattern: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof AppError, String(error));
    assert.equal(error.code, "UNSUPPORTED_MEDIA_TYPE");
    assert.match(String(error.details?.reason), pattern);
    assert.match(error.message, /^SVG refused: /);
    return true;
  };
}

describe("hostile SVGs are refused with a reason", () => {
  const cases: Array<[string, string, RegExp]> = [
    ["a script element", svg("<script>alert(1)</script>"), /script/],
    [
      "a namespaced script",
      svg('<svg:script xmlns:svg="http://www.w3.org/2000/svg">x</svg:script>'),
      /script/,
    ],
    ["an event handler", svg('<rect width="10" height="10" onclick="alert(1)"/>'), /event handler/],
    ["an event handler on the root", svg("", 'viewBox="0 0 10 10" onload="alert(1)"'), /event handler/],
    ["an external href", svg('<use href="https://evil.example/x.svg#a"/>'), /external/],
    ["an xlink:href to a local file", svg('<use xlink:href="file:///etc/passwd#x"/>'), /external/],
    ["a javascript: link", svg('<a href="javascript:alert(1)"><rect width="1" height="1"/></a>'), /external/],
    ["a data: URI", svg('<use href="data:image/svg+xml;base64,PHN2Zz4="/>'), /external/],
    ["foreignObject", svg("<foreignObject><div>hi</div></foreignObject>"), /foreignObject/],
    ["an embedded image", svg('<image href="#x" width="1" height="1"/>'), /image/],
    [
      "an external url() in a presentation attribute",
      svg('<rect fill="url(https://x.example/p.svg#g)"/>'),
      /external/,
    ],
    ["an external url() in style", svg('<rect style="fill:url(//x.example/a#b)"/>'), /external/],
    ["@import in a style sheet", svg("<style>@import url(https://x.example/a.css);</style>"), /import/],
    ["CSS escapes", svg("<style>rect { fill: u\\72l(x) }</style>"), /escapes/],
    [
      "a DOCTYPE",
      `<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">${svg("")}`,
      /DOCTYPE/,
    ],
    ["billion laughs", BILLION_LAUGHS, /entit|DOCTYPE/],
    [
      "an external entity",
      `<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>${svg("<desc>&x;</desc>")}`,
      /entit|DOCTYPE/,
    ],
    [
      "an xml-stylesheet instruction",
      `<?xml-stylesheet href="https://x.example/a.css"?>${svg("")}`,
      /processing instruction/,
    ],
    ["a huge viewBox", svg("<rect/>", 'viewBox="0 0 100000000 100000000"'), /viewBox is too large/],
    ["a huge width", svg("<rect/>", 'width="1e9" height="10" viewBox="0 0 10 10"'), /size is out of range/],
    ["a malformed viewBox", svg("<rect/>", 'viewBox="0 0 NaN 10"'), /malformed/],
    ["no size at all", svg("<rect/>", ""), /declares no size/],
    [
      "<use> chains (exponential expansion)",
      svg(
        '<defs><g id="a"><rect width="1" height="1"/></g><g id="b"><use href="#a"/><use href="#a"/></g></defs><use href="#b"/><use href="#b"/>',
      ),
      /chains/,
    ],
    [
      "too many <use> elements",
      svg(`<defs><rect id="r" width="1" height="1"/></defs>${'<use href="#r"/>'.repeat(201)}`),
      /use/,
    ],
    ["too many elements", svg('<rect width="1" height="1"/>'.repeat(5001)), /elements/],
    ["too deep nesting", svg(`${"<g>".repeat(60)}${"</g>".repeat(60)}`), /nests deeper/],
    ["text (it would need system fonts)", svg("<text>ACME</text>"), /outlines/],
    ["a root that is not svg", '<html><body><svg viewBox="0 0 1 1"/></body></html>', /root element/],
  ];
  for (const [name, input, reason] of cases) {
    it(name, () => assert.throws(() => sanitiseSvg(input), refusedWith(reason)));
  }

  it("a file over the size cap is refused before it is parsed", () => {
    const big = svg(`<path d="${"M0 0L1 1".repeat(70_000)}"/>`);
    assert.throws(() => sanitiseSvg(big), refusedWith(/larger than 512 KiB/));
  });
});

describe("benign SVGs are rewritten from an allowlist", () => {
  it("keeps the drawing, drops editor metadata and unknown attributes, sizes the root", () => {
    const input = `<?xml version="1.0" encoding="UTF-8"?>
<!-- exported by a design tool -->
<svg xmlns="http://www.w3.org/2000/svg" xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape" width="300" height="100" viewBox="0 0 300 100" inkscape:version="1.3">
  <metadata><rdf:RDF/></metadata>
  <defs><linearGradient id="g" x1="0" x2="1"><stop offset="0" stop-color="#c00"/><stop offset="1" stop-color="#900"/></linearGradient></defs>
  <g transform="translate(10 10)" data-name="mark"><path d="M0 0h80v80H0z" fill="url(#g)"/><use href="#g2"/></g>
  <g id="g2"><circle cx="150" cy="50" r="40" style="fill:#123"/></g>
  <animate attributeName="fill" to="red"/>
</svg>`;
    const sanitised = sanitiseSvg(input);
    assert.deepEqual(sanitised.viewBox, [0, 0, 300, 100]);
    const out = sanitised.toSvg({ width: 150, height: 50 });
    assert.match(
      out,
      /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]* width="150" height="50" viewBox="0 0 300 100">/,
    );
    assert.match(out, /<linearGradient id="g" x1="0" x2="1">/);
    assert.match(out, /<path d="M0 0h80v80H0z" fill="url\(#g\)"><\/path>/);
    assert.match(out, /<circle cx="150" cy="50" r="40" style="fill:#123"><\/circle>/);
    for (const gone of ["metadata", "rdf", "inkscape", "data-name", "animate", "<!--", "<?xml"]) {
      assert.ok(!out.includes(gone), `${gone} removed`);
    }
  });

  it("escapes attribute values it writes back", () => {
    const out = sanitiseSvg(svg('<rect class="a&amp;b&quot;c" width="1" height="1"/>')).toSvg();
    assert.match(out, /class="a&amp;b&quot;c"/);
  });

  it("takes the size from width/height when there is no viewBox", () => {
    assert.deepEqual(sanitiseSvg(svg("<rect/>", 'width="64px" height="32"')).viewBox, [0, 0, 64, 32]);
  });
});

describe("brand image sniffing", () => {
  it("tells SVG, PNG, JPEG and WebP by their bytes, and refuses the rest", () => {
    assert.equal(sniffBrandImage(Buffer.from(`\uFEFF<?xml version="1.0"?>\n<!-- x -->\n${svg("")}`)), "svg");
    assert.equal(sniffBrandImage(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0])), "png");
    assert.equal(sniffBrandImage(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0])), "jpeg");
    assert.equal(sniffBrandImage(Buffer.from("RIFF\0\0\0\0WEBPVP8 ", "latin1")), "webp");
    const unsupported = (error: unknown) =>
      error instanceof AppError && error.code === "UNSUPPORTED_MEDIA_TYPE";
    assert.throws(() => sniffBrandImage(Buffer.from("GIF89a......")), unsupported);
    assert.throws(() => sniffBrandImage(Buffer.from("<html><script>x</script></html>")), unsupported);
    assert.throws(() => sniffBrandImage(Buffer.from("%PDF-1.7")), unsupported);
  });
});
