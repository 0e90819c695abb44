/**
 * The public share page, server-rendered (pure: data in, HTML out). The poster is in the first
 * HTML byte range, so it paints before any script runs; the player script (same origin, no
 * third party) picks native HLS (Safari), else hls.js (loaded only then), else the MP4.
 */
import type { CampaignEntity } from "../db/entities/index.js";

export interface ShareMediaUrls {
  posterUrl: string | null;
  mp4Url: string;
  hlsUrl: string | null;
  /** When the page should fetch fresh URLs (a while before they expire). */
  refreshAfterSeconds: number;
}

export interface AgentCard {
  name: string;
  phone?: string | null;
  email?: string | null;
  brokerage?: string | null;
}

export interface SharePageInput {
  slug: string;
  /** The page's absolute URL (og:url). */
  pageUrl: string;
  campaign: CampaignEntity;
  media: ShareMediaUrls;
  width: number;
  height: number;
  durationSeconds: number;
  /** Only on the BRANDED variant. */
  agent: AgentCard | null;
  /** Versioned URLs of the page's own script and of hls.js. */
  assets: { player: string; hls: string };
}

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (ch) => ESCAPES[ch]!);

/**
 * The campaign's agent, if it has one. The agent fields arrive with the listing-video work
 * (`campaign.agent`); this accessor is the one place that reads them.
 */
export function agentOf(campaign: CampaignEntity): AgentCard | null {
  const agent = campaign.agent;
  if (!agent || agent.name.trim() === "") return null;
  const text = (value: unknown) => (typeof value === "string" && value.trim() !== "" ? value.trim() : null);
  return {
    name: agent.name.trim(),
    phone: text(agent.phone),
    email: text(agent.email),
    brokerage: text(agent.brokerage),
  };
}

/** "3 beds · 2 baths · 1,850 sq ft" and the price, from what the campaign has. */
export function propertyFacts(campaign: CampaignEntity): { price: string | null; facts: string[] } {
  const facts: string[] = [];
  if (campaign.bedrooms !== null) facts.push(`${campaign.bedrooms} bed${campaign.bedrooms === 1 ? "" : "s"}`);
  if (campaign.bathrooms !== null) {
    const baths = Number(campaign.bathrooms);
    facts.push(`${baths} bath${baths === 1 ? "" : "s"}`);
  }
  if (campaign.areaSqft !== null) facts.push(`${campaign.areaSqft.toLocaleString("en-US")} sq ft`);
  let price: string | null = null;
  if (campaign.price !== null) {
    try {
      price = new Intl.NumberFormat("en-US", {
        style: "currency",
        currency: campaign.currency,
        maximumFractionDigits: 0,
      }).format(Number(campaign.price));
    } catch {
      price = `${campaign.price} ${campaign.currency}`;
    }
  }
  return { price, facts };
}

const STYLE = `*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
background:#0f1115;color:#e8eaed}main{max-width:960px;margin:0 auto;padding:0 0 2rem}
.player{position:relative;background:#000}video{display:block;width:100%;height:auto;max-height:80vh;background:#000}
.info{padding:1rem 1.25rem}h1{font-size:1.4rem;margin:.25rem 0}.price{font-size:1.25rem;font-weight:600;color:#fff}
.facts{color:#b8bcc4;margin:.25rem 0}.desc{color:#cfd3da;white-space:pre-line}
.agent{margin:1rem 1.25rem;padding:1rem;border:1px solid #2a2f3a;border-radius:10px;background:#161a22}
.agent h2{font-size:1rem;margin:0 0 .25rem}.agent a{color:#8ab4f8}
@media (min-width:720px){.info{padding:1.5rem 0}.agent{margin:1rem 0}}`;

export function renderSharePage(input: SharePageInput): string {
  const { campaign, media } = input;
  const title = campaign.address?.trim() || campaign.name;
  const { price, facts } = propertyFacts(campaign);
  const description =
    [price, facts.join(" · ")].filter(Boolean).join(" — ") ||
    campaign.description?.slice(0, 200) ||
    "Property video";
  const meta = (property: string, content: string | number, attribute = "property") =>
    `<meta ${attribute}="${property}" content="${escapeHtml(String(content))}">`;
  const agent = input.agent;
  const config = JSON.stringify({ slug: input.slug, media }).replace(/</g, "\\u003c");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title>
<meta name="description" content="${escapeHtml(description)}">
<meta name="robots" content="noindex">
${meta("og:type", "video.other")}
${meta("og:title", title)}
${meta("og:description", description)}
${meta("og:url", input.pageUrl)}
${media.posterUrl ? meta("og:image", media.posterUrl) : ""}
${meta("og:video", media.mp4Url)}
${meta("og:video:secure_url", media.mp4Url)}
${meta("og:video:type", "video/mp4")}
${meta("og:video:width", input.width)}
${meta("og:video:height", input.height)}
${meta("twitter:card", "summary_large_image", "name")}
${meta("twitter:title", title, "name")}
${meta("twitter:description", description, "name")}
${media.posterUrl ? meta("twitter:image", media.posterUrl, "name") : ""}
<style>${STYLE}</style>
</head>
<body>
<main>
<div class="player">
<video id="player" controls playsinline preload="none" width="${input.width}" height="${input.height}"${
    media.posterUrl ? ` poster="${escapeHtml(media.posterUrl)}"` : ""
  } data-hls-script="${escapeHtml(input.assets.hls)}"></video>
</div>
<section class="info">
<h1>${escapeHtml(title)}</h1>
${price ? `<div class="price">${escapeHtml(price)}</div>` : ""}
${facts.length ? `<div class="facts">${escapeHtml(facts.join(" · "))}</div>` : ""}
${campaign.description ? `<p class="desc">${escapeHtml(campaign.description)}</p>` : ""}
</section>
${
  agent
    ? `<aside class="agent"><h2>${escapeHtml(agent.name)}</h2>${
        agent.brokerage ? `<div>${escapeHtml(agent.brokerage)}</div>` : ""
      }${agent.phone ? `<div><a href="tel:${escapeHtml(agent.phone.replace(/[^+\d]/g, ""))}">${escapeHtml(agent.phone)}</a></div>` : ""}${
        agent.email
          ? `<div><a href="mailto:${escapeHtml(agent.email)}">${escapeHtml(agent.email)}</a></div>`
          : ""
      }</aside>`
    : ""
}
</main>
<script type="application/json" id="share-config">${config}</script>
<script src="${escapeHtml(input.assets.player)}" defer></script>
</body>
</html>
`;
}

/** The plain page of a revoked or expired link (410). */
export const GONE_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>Video no longer available</title></head>
<body><p>This video is no longer shared.</p></body></html>
`;

export const NOT_FOUND_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex"><title>Not found</title></head>
<body><p>There is no video here.</p></body></html>
`;

/**
 * The player (served as a static same-origin script, so the page's CSP allows no inline code):
 * native HLS, else hls.js loaded on demand, else MP4; fresh signed URLs before they expire and
 * after a media error; a view beacon on the first play and watch-seconds beacons.
 */
export const PLAYER_SCRIPT = `"use strict";
(function () {
  var video = document.getElementById("player");
  var config = JSON.parse(document.getElementById("share-config").textContent);
  var slug = config.slug, urls = config.media, hls = null, viewed = false;
  var watched = 0, lastTick = null;
  function base() { return "/s/" + encodeURIComponent(slug); }
  function beacon(path) {
    if (navigator.sendBeacon && navigator.sendBeacon(base() + path)) return;
    fetch(base() + path, { method: "POST", keepalive: true }).catch(function () {});
  }
  function loadHls() {
    return new Promise(function (resolve, reject) {
      if (window.Hls) return resolve(window.Hls);
      var script = document.createElement("script");
      script.src = video.dataset.hlsScript;
      script.onload = function () { resolve(window.Hls); };
      script.onerror = reject;
      document.head.appendChild(script);
    });
  }
  function seekWhenReady(at) {
    if (at > 0) video.addEventListener("loadedmetadata", function () { video.currentTime = at; }, { once: true });
  }
  function attach(at) {
    if (hls) { hls.destroy(); hls = null; }
    if (urls.hlsUrl && video.canPlayType("application/vnd.apple.mpegurl")) {
      video.src = urls.hlsUrl; seekWhenReady(at); return Promise.resolve();
    }
    if (urls.hlsUrl && window.MediaSource) {
      return loadHls().then(function (Hls) {
        if (!Hls.isSupported()) throw new Error("no MSE");
        hls = new Hls({ startPosition: at > 0 ? at : -1 });
        hls.on(Hls.Events.ERROR, function (_event, data) { if (data.fatal) recover(); });
        hls.loadSource(urls.hlsUrl);
        hls.attachMedia(video);
      }).catch(function () { video.src = urls.mp4Url; seekWhenReady(at); });
    }
    video.src = urls.mp4Url; seekWhenReady(at); return Promise.resolve();
  }
  function refresh() {
    return fetch(base() + "/media", { cache: "no-store" }).then(function (response) {
      if (response.status === 410) { location.reload(); return false; }
      if (!response.ok) return false;
      return response.json().then(function (fresh) { urls = fresh; schedule(); return true; });
    }).catch(function () { return false; });
  }
  var timer = null;
  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(refresh, Math.max(30, urls.refreshAfterSeconds) * 1000);
  }
  var recovering = false;
  function recover() {
    if (recovering) return;
    recovering = true;
    var at = video.currentTime, playing = !video.paused;
    refresh().then(function (ok) {
      if (!ok) return;
      return attach(at).then(function () { if (playing) return video.play(); });
    }).catch(function () {}).then(function () { recovering = false; });
  }
  video.addEventListener("error", function () { if (!hls) recover(); });
  video.addEventListener("play", function () {
    if (!viewed) { viewed = true; beacon("/view"); }
  });
  video.addEventListener("timeupdate", function () {
    var now = performance.now();
    if (!video.paused && lastTick !== null) watched += Math.min((now - lastTick) / 1000, 1.5);
    lastTick = video.paused ? null : now;
  });
  video.addEventListener("pause", function () { lastTick = null; });
  function flush() {
    if (watched >= 0.5) { beacon("/watch?seconds=" + watched.toFixed(1)); watched = 0; }
  }
  setInterval(flush, 15000);
  document.addEventListener("visibilitychange", function () { if (document.visibilityState === "hidden") flush(); });
  window.addEventListener("pagehide", flush);
  video.preload = "metadata";
  attach(0);
  schedule();
})();
`;
