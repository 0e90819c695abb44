import type { Config } from "../config.js";
import type { Logger } from "../logger.js";
import type { ProviderRegistry } from "./registry.js";
import type { PredictionWakeups } from "./replicate/prediction-waiter.js";
import { ReplicateClient } from "./replicate/replicate-client.js";
import {
  billedDuration,
  MUSICGEN,
  REPLICATE_PRICES_AS_OF,
  REPLICATE_VIDEO_MODELS,
} from "./replicate/replicate-models.js";
import { ReplicateMusicProvider } from "./replicate/replicate-music.provider.js";
import { ReplicateVideoProvider } from "./replicate/replicate-video.provider.js";
import { estimateSelectionUsd, GrokSelector, XAI_PRICES_AS_OF } from "./xai/grok-selector.js";

/** Knobs tests turn (faster polling and backoff); production uses the defaults. */
export interface RealProviderTuning {
  pollIntervalMs?: number;
  backoffMs?: number;
}

/**
 * Adds the real AI providers whose keys are configured: every Replicate video model of the
 * table and MusicGen with REPLICATE_API_TOKEN, Grok with XAI_API_KEY. Without keys, nothing is
 * added and the embedded defaults stay the only choice.
 */
export function addRealProviders(
  registry: ProviderRegistry,
  deps: {
    config: Config;
    logger: Logger;
    ffmpeg: string;
    /** Webhook wake-ups for the Replicate adapters (from whichever process received the webhook). */
    wakeups?: PredictionWakeups;
    tuning?: RealProviderTuning;
  },
): ProviderRegistry {
  const { config, logger, ffmpeg, wakeups, tuning = {} } = deps;
  const pollIntervalMs = tuning.pollIntervalMs ?? config.replicate.pollIntervalMs;
  const publicBaseUrl = config.publicBaseUrlConfigured ? config.publicBaseUrl : undefined;
  const token = config.replicate.apiToken;
  if (token) {
    let client: ReplicateClient | undefined;
    const shared = () => {
      client ??= new ReplicateClient({
        apiToken: token,
        baseUrl: config.replicate.baseUrl,
        backoffMs: tuning.backoffMs,
        outputs: {
          hosts: config.replicate.outputHosts,
          policy: { allowedPorts: [80, 443], allowLoopbackForTests: config.allowLoopbackFetch },
        },
      });
      return client;
    };
    for (const model of REPLICATE_VIDEO_MODELS) {
      registry.addVideo({
        name: `replicate:${model.id}`,
        description: model.description,
        price: {
          unit: "second",
          unitPriceUsd: model.usdPerSecond,
          billedSeconds: (seconds) => billedDuration(model, seconds),
          asOf: REPLICATE_PRICES_AS_OF,
        },
        capabilities: {
          durations: model.durations,
          resolutions: model.resolutions,
          aspectRatios: model.aspectRatios
            ? Object.keys(model.aspectRatios)
            : ["LANDSCAPE_16_9", "PORTRAIT_9_16", "SQUARE_1_1"],
          maxSeconds: Math.max(...model.durations),
        },
        create: () =>
          new ReplicateVideoProvider({
            client: shared(),
            model,
            ffmpeg,
            logger,
            publicBaseUrl,
            pollIntervalMs,
            wakeups,
          }),
      });
    }
    registry.addMusic({
      name: `replicate:${MUSICGEN.id}`,
      description:
        "Meta MusicGen (stereo melody large): one prediction up to 30 s, longer scores by continuation",
      price: { unit: "second", unitPriceUsd: MUSICGEN.usdPerOutputSecond, asOf: REPLICATE_PRICES_AS_OF },
      capabilities: { maxSeconds: 600 },
      create: () =>
        new ReplicateMusicProvider({
          client: shared(),
          ffmpeg,
          logger,
          publicBaseUrl,
          pollIntervalMs,
          wakeups,
        }),
    });
  }
  const apiKey = config.xai.apiKey;
  if (apiKey) {
    const model = config.xai.model;
    registry.addSelector({
      name: `xai:${model}`,
      description: `xAI ${model}: looks at the photos and picks each scene's pair, move and prompt; heuristic fallback`,
      price: { unit: "prediction", unitPriceUsd: estimateSelectionUsd(model), asOf: XAI_PRICES_AS_OF },
      create: () => new GrokSelector({ apiKey, baseUrl: config.xai.baseUrl, model, logger }),
    });
  }
  return registry;
}
