import { AppError } from "../errors.js";
import type { MediaWorkerPool } from "../workers/media-tasks.js";
import { HeuristicSelector } from "./local/heuristic-selector.js";
import { LocalMusicProvider } from "./local/local-music.provider.js";
import { LocalVideoProvider } from "./local/local-video.provider.js";
import type { MusicProvider, PairSelector, VideoProvider } from "./types.js";

/** Price of one unit of work, for estimates and itemised costs. */
export interface ProviderPrice {
  unit: "second" | "prediction" | "token";
  unitPriceUsd: number;
  /**
   * Seconds billed for a requested clip length, when the provider renders only some durations
   * (Hailuo-02 renders 6 s for a 4 s scene and bills 6). Absent: billed as requested.
   */
  billedSeconds?: (requestedSeconds: number) => number;
  /** When the list price was last checked (real providers). */
  asOf?: string;
}

/** What a provider can do, for a client offering the choice. */
export interface ProviderCapabilities {
  durations?: readonly number[];
  resolutions?: readonly string[];
  aspectRatios?: readonly string[];
  maxSeconds?: number;
}

export interface ProviderEntry<T> {
  name: string;
  description: string;
  price: ProviderPrice;
  capabilities?: ProviderCapabilities;
  create(): T;
}

export type ProviderRole = "SELECTOR" | "VIDEO" | "MUSIC";

/**
 * Providers by name (`local`, `heuristic`, later `replicate:owner/model`, `xai:model`). Chosen
 * per job; a name that is not registered is refused when the job is created, not when it runs.
 */
export class ProviderRegistry {
  private readonly selectors = new Map<string, ProviderEntry<PairSelector>>();
  private readonly videos = new Map<string, ProviderEntry<VideoProvider>>();
  private readonly musics = new Map<string, ProviderEntry<MusicProvider>>();
  private readonly instances = new Map<string, unknown>();

  addSelector(entry: ProviderEntry<PairSelector>): this {
    this.selectors.set(entry.name, entry);
    return this;
  }
  addVideo(entry: ProviderEntry<VideoProvider>): this {
    this.videos.set(entry.name, entry);
    return this;
  }
  addMusic(entry: ProviderEntry<MusicProvider>): this {
    this.musics.set(entry.name, entry);
    return this;
  }

  selectorEntry(name: string): ProviderEntry<PairSelector> {
    return need(this.selectors.get(name), "selector", name, [...this.selectors.keys()]);
  }
  videoEntry(name: string): ProviderEntry<VideoProvider> {
    return need(this.videos.get(name), "videoProvider", name, [...this.videos.keys()]);
  }
  musicEntry(name: string): ProviderEntry<MusicProvider> {
    return need(this.musics.get(name), "musicProvider", name, [...this.musics.keys()]);
  }

  /** Every registered provider with its role, for the `providers` query. */
  list(): { role: ProviderRole; entry: ProviderEntry<unknown> }[] {
    return [
      ...[...this.selectors.values()].map((entry) => ({ role: "SELECTOR" as const, entry })),
      ...[...this.videos.values()].map((entry) => ({ role: "VIDEO" as const, entry })),
      ...[...this.musics.values()].map((entry) => ({ role: "MUSIC" as const, entry })),
    ];
  }

  selector(name: string): PairSelector {
    return this.instance(`selector:${name}`, () => this.selectorEntry(name).create());
  }
  video(name: string): VideoProvider {
    return this.instance(`video:${name}`, () => this.videoEntry(name).create());
  }
  music(name: string): MusicProvider {
    return this.instance(`music:${name}`, () => this.musicEntry(name).create());
  }

  private instance<T>(key: string, create: () => T): T {
    if (!this.instances.has(key)) this.instances.set(key, create());
    return this.instances.get(key) as T;
  }
}

function need<T>(entry: T | undefined, role: string, name: string, known: string[]): T {
  if (!entry) {
    throw new AppError("BAD_USER_INPUT", `Unknown ${role} "${name}"; available: ${known.join(", ")}`, {
      details: { argument: role, available: known },
    });
  }
  return entry;
}

const FREE: ProviderPrice = { unit: "second", unitPriceUsd: 0 };

/** The embedded providers: real, offline, free. Their CPU-heavy work runs on `workers`. */
export function embeddedProviders(options: { ffmpeg: string; workers: MediaWorkerPool }): ProviderRegistry {
  return new ProviderRegistry()
    .addSelector({
      name: "heuristic",
      description: "Image quality, room type and similarity; no model",
      price: { unit: "prediction", unitPriceUsd: 0 },
      create: () => new HeuristicSelector(),
    })
    .addVideo({
      name: "local",
      description: "FFmpeg camera move from the first photo into the last, 1080p30",
      price: FREE,
      capabilities: {
        resolutions: ["1080p"],
        aspectRatios: ["LANDSCAPE_16_9", "PORTRAIT_9_16", "SQUARE_1_1", "PORTRAIT_4_5"],
      },
      create: () => new LocalVideoProvider({ ffmpeg: options.ffmpeg, workers: options.workers }),
    })
    .addMusic({
      name: "local",
      description: "Procedural score synthesised per mood, one continuous track with a cadence",
      price: FREE,
      create: () => new LocalMusicProvider({ workers: options.workers }),
    });
}
