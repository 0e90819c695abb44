import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AppError } from "../../src/errors.js";
import {
  extractListingPhotos,
  MAX_LISTING_PHOTOS,
  parseSrcset,
  readTags,
} from "../../src/media/listing-parser.js";

const PAGE = "https://www.example-realty.test/listings/12-harbour-view?ref=search";

/** A listing page as real sites ship them: CDN srcsets, lazy loaders, meta tags, JSON-LD, clutter. */
const LISTING_HTML = `<!DOCTYPE html>
<HTML lang="en">
<HEAD>
  <META charset="utf-8">
  <title>12 Harbour View — 4 bed <img src="/not-a-tag.jpg"></title>
  <base href="https://cdn.example-realty.test/media/">
  <meta property="og:title" content="12 Harbour View">
  <meta property="og:image" content="https://cdn.example-realty.test/media/hero-1600.jpg">
  <meta property="og:image:alt" content="Front of the house at dusk">
  <meta name="twitter:image" content="https://cdn.example-realty.test/media/hero-1600.jpg">
  <meta property="og:image:url" content="/media/og-alt.jpg">
  <link rel="icon" href="/favicon.ico">
  <script type="application/ld+json">
  {
    "@context": "https://schema.org",
    "@graph": [
      {
        "@type": "Organization",
        "name": "Example Realty",
        "logo": { "@type": "ImageObject", "url": "https://cdn.example-realty.test/brand/header.png" }
      },
      {
        "@type": ["RealEstateListing", "Product"],
        "name": "12 Harbour View",
        "image": [
          "https://cdn.example-realty.test/media/kitchen-2400.jpg",
          { "@type": "ImageObject", "contentUrl": "https://cdn.example-realty.test/media/garden.jpg", "caption": "Garden &amp; deck" },
          { "@type": "ImageObject", "url": "https://cdn.example-realty.test/media/bath.jpg", "name": "Main bathroom" }
        ]
      },
      { "@type": "ImageObject", "@id": "#floorplan", "contentUrl": "floorplan.jpg", "caption": "Floor plan" }
    ]
  }
  </script>
  <script type="application/ld+json">[{"@type":"Residence","photo":{"@type":"ImageObject","url":"https://cdn.example-realty.test/media/pool.jpg"}}, {"image": "data:image/png;base64,AAAA"}]</script>
  <script type="application/ld+json">{ not json at all </script>
  <script>
    // Not markup: "<img src='/in-script.jpg'>" must not be found.
    window.__STATE__ = { img: "<img src=\\"/in-state.jpg\\">" };
  </script>
  <style>.hero{background:url(/in-style.jpg)}</style>
</HEAD>
<body>
  <!-- <img src="/commented-out.jpg" alt="old"> -->
  <header><IMG SRC="/assets/logo-dark.png" ALT="Example Realty"></header>
  <img src="/assets/sprite.png" alt="">
  <img src="/assets/agents/avatar-jane.jpg" alt="Jane Doe">
  <img src="/assets/spacer.gif" width="1" height="1" alt="">
  <img src="/assets/badge.png" width=120 height=40 alt="Award">
  <img src="/media/silicon-valley-view.jpg" alt="View" width="1200" height="800">

  <div class="gallery">
    <img
      src="/media/living-800.jpg"
      srcset="/media/living-800.jpg 800w, /media/living-1600.jpg 1600w,
              /media/living-2400.jpg 2400w, /media/living-400.jpg 400w"
      sizes="100vw"
      alt="Living room &amp; fireplace &quot;open plan&quot;">
    <img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" data-src="bedroom.jpg" alt='Main bedroom'>
    <img class=lazy data-srcset="/media/study-1x.jpg 1x, /media/study-2x.jpg 2x" alt=Study>
    <img src="https://img.cdn.test/c_fill,w_400,h_300/terrace.jpg"
         srcset="https://img.cdn.test/c_fill,w_400,h_300/terrace.jpg 400w, https://img.cdn.test/c_fill,w_1600,h_1200/terrace.jpg 1600w"
         alt="Terrace">
    <picture>
      <source type="image/webp" srcset="/media/dining-1200.webp 1200w, /media/dining-2400.webp 2400w" media="(min-width: 800px)">
      <source srcset="/media/dining-1200.jpg 1200w">
      <img src="/media/dining-600.jpg" alt="Dining room">
    </picture>
    <a href="/media/kitchen-2400.jpg"><img src="/media/kitchen-2400.jpg#zoom" alt="Kitchen"></a>
    <img src="/media/living-2400.jpg" alt="Duplicate of the living room">
    <img src="javascript:alert(1)" alt="nope">
    <img src="mailto:agent@example.test">
    <img src="/media/floor.svg" alt="vector">
    <noscript><img src="/media/noscript-only.jpg" alt="Hallway"></noscript>
  </div>
</body>
</HTML>`;

describe("extractListingPhotos on a realistic listing page", () => {
  const photos = extractListingPhotos(LISTING_HTML, PAGE);
  const byUrl = new Map(photos.map((p) => [p.url, p]));
  const cdn = (file: string) => `https://cdn.example-realty.test/media/${file}`;

  it("finds the expected photos in document order, each once", () => {
    assert.deepEqual(
      photos.map((p) => p.url),
      [
        cdn("hero-1600.jpg"),
        "https://cdn.example-realty.test/media/og-alt.jpg",
        cdn("kitchen-2400.jpg"),
        cdn("garden.jpg"),
        cdn("bath.jpg"),
        cdn("floorplan.jpg"),
        cdn("pool.jpg"),
        "https://cdn.example-realty.test/media/silicon-valley-view.jpg",
        "https://cdn.example-realty.test/media/living-2400.jpg",
        cdn("bedroom.jpg"),
        "https://cdn.example-realty.test/media/study-2x.jpg",
        "https://img.cdn.test/c_fill,w_1600,h_1200/terrace.jpg",
        "https://cdn.example-realty.test/media/dining-2400.webp",
        "https://cdn.example-realty.test/media/noscript-only.jpg",
      ],
    );
  });

  it("records where each photo came from", () => {
    assert.equal(byUrl.get(cdn("hero-1600.jpg"))?.source, "og:image");
    assert.equal(byUrl.get(cdn("garden.jpg"))?.source, "json-ld");
    assert.equal(byUrl.get("https://cdn.example-realty.test/media/living-2400.jpg")?.source, "srcset");
    assert.equal(byUrl.get(cdn("bedroom.jpg"))?.source, "img");
    assert.equal(byUrl.get("https://cdn.example-realty.test/media/dining-2400.webp")?.source, "picture");
  });

  it("keeps alt text: attributes (entity-decoded), og:image:alt, JSON-LD caption or name", () => {
    assert.equal(byUrl.get(cdn("hero-1600.jpg"))?.altText, "Front of the house at dusk");
    assert.equal(
      byUrl.get("https://cdn.example-realty.test/media/living-2400.jpg")?.altText,
      'Living room & fireplace "open plan"',
    );
    assert.equal(byUrl.get(cdn("bedroom.jpg"))?.altText, "Main bedroom");
    assert.equal(byUrl.get("https://cdn.example-realty.test/media/study-2x.jpg")?.altText, "Study");
    assert.equal(byUrl.get(cdn("garden.jpg"))?.altText, "Garden &amp; deck"); // JSON is not HTML
    assert.equal(byUrl.get(cdn("bath.jpg"))?.altText, "Main bathroom");
    assert.equal(byUrl.get(cdn("floorplan.jpg"))?.altText, "Floor plan");
    assert.equal(byUrl.get("https://cdn.example-realty.test/media/dining-2400.webp")?.altText, "Dining room");
    // A later duplicate supplies the alt text the first occurrence lacked.
    assert.equal(byUrl.get(cdn("kitchen-2400.jpg"))?.altText, "Kitchen");
  });

  it("skips logos, icons, sprites, avatars, spacers, badges, SVGs, data: and non-http URLs", () => {
    const all = photos.map((p) => p.url).join("\n");
    for (const fragment of [
      "logo",
      "sprite",
      "avatar",
      "spacer",
      "badge",
      "favicon",
      "header.png",
      ".svg",
      "data:",
    ]) {
      assert.ok(!all.includes(fragment), fragment);
    }
    assert.ok(photos.every((p) => p.url.startsWith("https://")));
  });

  it("never reads markup inside scripts, styles, titles or comments", () => {
    const all = photos.map((p) => p.url).join("\n");
    for (const fragment of ["in-script", "in-state", "in-style", "not-a-tag", "commented-out"]) {
      assert.ok(!all.includes(fragment), fragment);
    }
  });
});

describe("extractListingPhotos edge cases", () => {
  it("resolves relative URLs against the page when there is no <base>", () => {
    const photos = extractListingPhotos('<img src="../photos/a.jpg">', "https://x.test/listings/1/");
    assert.deepEqual(photos, [{ url: "https://x.test/listings/photos/a.jpg", altText: null, source: "img" }]);
  });

  it("uses only the first <base href>, even when it comes after the images", () => {
    const html = '<img src="a.jpg"><base href="https://one.test/m/"><base href="https://two.test/">';
    assert.equal(extractListingPhotos(html, "https://x.test/")[0]?.url, "https://one.test/m/a.jpg");
  });

  it("ignores a non-http <base>", () => {
    const html = '<base href="javascript:alert(1)"><img src="a.jpg">';
    assert.equal(extractListingPhotos(html, "https://x.test/p/")[0]?.url, "https://x.test/p/a.jpg");
  });

  it("handles JSON-LD image forms: string, array, ImageObject, nested objects, @graph", () => {
    const html = `
      <script type="application/ld+json">{"@type":"Product","image":"https://x.test/1.jpg"}</script>
      <script type="APPLICATION/LD+JSON">{"@graph":[{"@type":"Offer","itemOffered":{"image":{"@type":"ImageObject","contentUrl":"/2.jpg","caption":"Two"}}}]}</script>
      <script type="application/ld+json">[{"image":["/3.jpg",{"url":"/4.jpg","name":"Four"}]}]</script>
      <script type="application/ld+json"><!-- {"image":"/5.jpg"} --></script>
      <script type="application/ld+json">{"@type":"Organization","logo":"/brand.png","image":{"@id":"#ref"}}</script>`;
    const photos = extractListingPhotos(html, "https://x.test/");
    assert.deepEqual(photos, [
      { url: "https://x.test/1.jpg", altText: null, source: "json-ld" },
      { url: "https://x.test/2.jpg", altText: "Two", source: "json-ld" },
      { url: "https://x.test/3.jpg", altText: null, source: "json-ld" },
      { url: "https://x.test/4.jpg", altText: "Four", source: "json-ld" },
      { url: "https://x.test/5.jpg", altText: null, source: "json-ld" },
    ]);
  });

  it("survives deeply nested JSON-LD", () => {
    const deep = `${'{"a":'.repeat(5000)}{"image":"/deep.jpg"}${"}".repeat(5000)}`;
    const photos = extractListingPhotos(
      `<script type="application/ld+json">${deep}</script>`,
      "https://x.test/",
    );
    assert.deepEqual(photos, []);
  });

  it("picks the largest srcset candidate by width, else by density", () => {
    const html = `
      <img srcset="s.jpg 300w, l.jpg 1800w, m.jpg 900w">
      <img srcset="a.jpg, b.jpg 3x, c.jpg 2x">
      <img srcset="placeholder.gif" data-srcset="real-1x.jpg 1x, real-2x.jpg 2x" src="x.jpg">`;
    const urls = extractListingPhotos(html, "https://x.test/").map((p) => p.url);
    assert.deepEqual(urls, [
      "https://x.test/l.jpg",
      "https://x.test/b.jpg",
      "https://x.test/placeholder.gif",
    ]);
  });

  it("prefers lazy-loading attributes over a data: placeholder", () => {
    const html = `
      <img src="data:image/gif;base64,R0lGOD" data-lazy-src="/a.jpg">
      <img src="data:image/gif;base64,R0lGOD" data-original="/b.jpg">
      <img src="data:image/gif;base64,R0lGOD" srcset="data:image/gif;base64,R0lGOD 1x" data-srcset="/c.jpg 2x">`;
    const urls = extractListingPhotos(html, "https://x.test/").map((p) => p.url);
    assert.deepEqual(urls, ["https://x.test/a.jpg", "https://x.test/b.jpg", "https://x.test/c.jpg"]);
  });

  it("skips images declared smaller than 200 px but keeps percentage and large sizes", () => {
    const html = `
      <img src="/a.jpg" width="199"><img src="/b.jpg" height="50px"><img src="/c.jpg" width="100%">
      <img src="/d.jpg" width="200" height="200"><img src="/e.jpg" width="auto">`;
    const urls = extractListingPhotos(html, "https://x.test/").map((p) => p.url);
    assert.deepEqual(urls, ["https://x.test/c.jpg", "https://x.test/d.jpg", "https://x.test/e.jpg"]);
  });

  it("skips icon-like paths without catching words that merely contain them", () => {
    const html = `
      <img src="/icons/bed.png"><img src="/img/Logo_White.png"><img src="/favicon-32.png">
      <img src="/u/avatars/12.jpg"><img src="/sprites.png"><img src="/site%2Dlogo.jpg">
      <img src="/photos/silicon.jpg"><img src="/photos/catalogue.jpg"><img src="https://logo.test/photo.jpg">`;
    const urls = extractListingPhotos(html, "https://x.test/").map((p) => p.url);
    assert.deepEqual(urls, [
      "https://x.test/photos/silicon.jpg",
      "https://x.test/photos/catalogue.jpg",
      "https://logo.test/photo.jpg",
    ]);
  });

  it("dedupes by absolute URL, ignoring fragments", () => {
    const html = '<img src="/a.jpg"><img src="https://x.test/a.jpg#2"><img src="a.jpg?x=1">';
    const urls = extractListingPhotos(html, "https://x.test/").map((p) => p.url);
    assert.deepEqual(urls, ["https://x.test/a.jpg", "https://x.test/a.jpg?x=1"]);
  });

  it("drops URLs with credentials and non-http schemes", () => {
    const html =
      '<img src="https://u:p@x.test/a.jpg"><img src="ftp://x.test/b.jpg"><img src="blob:https://x.test/1">';
    assert.deepEqual(extractListingPhotos(html, "https://x.test/"), []);
  });

  it(`caps the result at ${MAX_LISTING_PHOTOS} photos`, () => {
    const html = Array.from({ length: 500 }, (_, i) => `<img src="/p/${i}.jpg">`).join("");
    const photos = extractListingPhotos(html, "https://x.test/");
    assert.equal(photos.length, MAX_LISTING_PHOTOS);
    assert.equal(photos[0]?.url, "https://x.test/p/0.jpg");
  });

  it("rejects an invalid page URL", () => {
    assert.throws(
      () => extractListingPhotos("<img src=a.jpg>", "not a url"),
      (error: unknown) => error instanceof AppError && error.code === "BAD_USER_INPUT",
    );
  });
});

describe("readTags", () => {
  const startTags = (html: string) => readTags(html).filter((tag) => !tag.end);

  it("reads quoted, unquoted, valueless and duplicate attributes", () => {
    const [tag] = startTags(`<IMG Src=a.jpg ALT='it"s' data-x="1 > 0" hidden alt="second" / >`);
    assert.equal(tag?.name, "img");
    assert.equal(tag?.attrs.src, "a.jpg");
    assert.equal(tag?.attrs.alt, 'it"s');
    assert.equal(tag?.attrs["data-x"], "1 > 0");
    assert.equal(tag?.attrs.hidden, "");
  });

  it("skips comments, doctypes, processing instructions and stray '<'", () => {
    const tags = readTags("<!doctype html><?xml x?>a < b <!-- <img> --><p>1<2</p><img src=x>");
    assert.deepEqual(
      tags.map((t) => `${t.end ? "/" : ""}${t.name}`),
      ["p", "/p", "img", "/img"],
    );
  });

  it("returns raw text for script, up to the matching close tag, and never reads markup in it", () => {
    const tags = startTags('<script type="x">if (a<b) "</div>";</SCRIPT ><img src=y>');
    assert.equal(tags[0]?.text, 'if (a<b) "</div>";');
    assert.equal(tags[1]?.name, "img");
    for (const element of ["style", "title", "textarea", "xmp", "iframe", "noembed", "noframes"]) {
      const names = startTags(`<${element}><img src=a></${element}><img src=b>`).map((t) => t.attrs.src);
      assert.deepEqual(names, [undefined, "b"], element);
    }
  });

  it("survives unterminated constructs (a tag cut off by the end of the page is dropped, as browsers do)", () => {
    assert.deepEqual(startTags("<img src='a.jpg"), []);
    assert.deepEqual(startTags("<!-- never closed <img src=a>"), []);
    assert.equal(startTags("<script>never closed <img src=a>")[0]?.text, "never closed <img src=a>");
  });
});

describe("character references and srcset", () => {
  const alt = (value: string) => startTag(`<img alt="${value}">`).alt;
  const startTag = (html: string) => readTags(html)[0]!.attrs;

  it("decodes named, decimal and hex references", () => {
    assert.equal(alt("a &amp; b &lt;c&gt; &quot;d&quot; &#39;e&#x27; &nbsp;"), "a & b <c> \"d\" 'e' \u00a0");
    assert.equal(alt("&#0; &#x110000; &#xD800;"), "\ufffd \ufffd \ufffd");
    assert.equal(alt("?a=1&amp;b=2&copy=3"), "?a=1&b=2&copy=3"); // legacy rule in attributes
    assert.equal(alt("&unknown; &amp"), "&unknown; &");
  });

  it("decodes every named reference, not only the common ones", () => {
    assert.equal(
      alt("&pound;1,250,000 &euro;&nbsp;4 &frac12; baths &rarr; &Aring;"),
      "£1,250,000 €\u00a04 ½ baths → Å",
    );
  });

  it("parses srcset candidates, including URLs with commas", () => {
    assert.deepEqual(parseSrcset("a.jpg 1x, b.jpg 2x"), [
      { url: "a.jpg", width: null, density: 1 },
      { url: "b.jpg", width: null, density: 2 },
    ]);
    assert.deepEqual(parseSrcset("https://c.test/w_400,h_300/x.jpg 400w,https://c.test/y.jpg"), [
      { url: "https://c.test/w_400,h_300/x.jpg", width: 400, density: null },
      { url: "https://c.test/y.jpg", width: null, density: null },
    ]);
    assert.deepEqual(parseSrcset("ok.jpg 100w 50h"), [{ url: "ok.jpg", width: 100, density: null }]);
    assert.deepEqual(parseSrcset(" , ,"), []);
  });

  it("keeps at most 100 candidates of a hostile srcset", () => {
    const candidates = parseSrcset(
      Array.from({ length: 50_000 }, (_, i) => `/p/${i}.jpg ${i + 1}w`).join(","),
    );
    assert.equal(candidates.length, 100);
    assert.deepEqual(candidates[99], { url: "/p/99.jpg", width: 100, density: null });
  });

  it("offers no candidate from a srcset with an invalid descriptor (the img falls back to src)", () => {
    assert.deepEqual(parseSrcset("bad.jpg 10q, ok.jpg 100w 50h"), []);
    const photos = extractListingPhotos('<img srcset="a.jpg 10q, b.jpg 2x" src="c.jpg">', "https://x.test/");
    assert.deepEqual(
      photos.map((p) => p.url),
      ["https://x.test/c.jpg"],
    );
  });
});
