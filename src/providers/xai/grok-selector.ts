import OpenAI from "openai";
import { CAMERA_MOVES, type CameraMove } from "../../domain/vocabulary.js";
import { AppError } from "../../errors.js";
import type { Logger } from "../../logger.js";
import { effectiveRoomType, HeuristicSelector } from "../local/heuristic-selector.js";
import { redact } from "../replicate/replicate-client.js";
import { type PairSelector, type ScenePick, type SelectorInput } from "../types.js";

/**
 * xAI token list prices (USD per million tokens) AS OF 2025-11-01, from docs.x.ai; images count
 * as input tokens. List prices to be checked before relying on the estimates.
 */
export const XAI_PRICES_AS_OF = "2025-11-01";
export const XAI_PRICES: Readonly<Record<string, { inputPerMTok: number; outputPerMTok: number }>> =
  Object.freeze({
    "grok-4": { inputPerMTok: 3, outputPerMTok: 15 },
    "grok-4-fast": { inputPerMTok: 0.2, outputPerMTok: 0.5 },
  });
/** Quote per selection: ~12k input tokens (photos at low detail, facts, plan) and ~1.5k output. */
export function estimateSelectionUsd(model: string): number {
  const price = XAI_PRICES[model] ?? XAI_PRICES["grok-4"]!;
  return Math.round(((12_000 * price.inputPerMTok + 1_500 * price.outputPerMTok) / 1e6) * 10_000) / 10_000;
}

/** At most this many photos are shown to the model (the rest are described by facts only). */
const MAX_IMAGES = 24;

export interface GrokSelectorOptions {
  apiKey: string;
  baseUrl: string;
  model: string;
  logger?: Logger;
  timeoutMs?: number;
  maxRetries?: number;
}

/** The answer the model must give, as JSON Schema (strict structured output). */
export const SELECTION_SCHEMA = {
  type: "object",
  additionalProperties: false,
  required: ["scenes"],
  properties: {
    scenes: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["index", "firstAssetId", "lastAssetId", "cameraMove", "prompt", "confidence", "reasoning"],
        properties: {
          index: { type: "integer" },
          firstAssetId: { type: "string" },
          lastAssetId: { type: "string" },
          cameraMove: { type: "string", enum: [...CAMERA_MOVES] },
          prompt: { type: "string" },
          confidence: { type: "number" },
          reasoning: { type: "string" },
        },
      },
    },
  },
} as const;

interface Answer {
  scenes: {
    index: number;
    firstAssetId: string;
    lastAssetId: string;
    cameraMove: string;
    prompt: string;
    confidence: number;
    reasoning: string;
  }[];
}

/**
 * Pair selection by Grok (vision + JSON-schema output) through xAI's OpenAI-compatible API.
 * Whatever the model answers is checked against the campaign; an answer that breaks a rule, or
 * any failure of the call, falls back to the heuristic selector with the reason in `note`.
 */
export class GrokSelector implements PairSelector {
  readonly name: string;
  private readonly client: OpenAI;
  private readonly fallback = new HeuristicSelector();

  constructor(private readonly options: GrokSelectorOptions) {
    this.name = `xai:${options.model}`;
    this.client = new OpenAI({
      apiKey: options.apiKey,
      baseURL: options.baseUrl,
      timeout: options.timeoutMs ?? 90_000,
      maxRetries: options.maxRetries ?? 2,
    });
  }

  async select(input: SelectorInput): Promise<{ picks: ScenePick[]; costUsd?: number; note?: string }> {
    let costUsd = 0;
    try {
      const completion = await this.client.chat.completions.create(
        {
          model: this.options.model,
          temperature: 0.2,
          messages: [
            { role: "system", content: SYSTEM_PROMPT },
            { role: "user", content: await this.userContent(input) },
          ],
          response_format: {
            type: "json_schema",
            json_schema: { name: "scene_pairs", strict: true, schema: SELECTION_SCHEMA },
          },
        },
        { signal: input.signal },
      );
      costUsd = this.cost(completion.usage);
      const text = completion.choices[0]?.message?.content;
      if (!text) throw new Error("empty answer");
      const picks = validateAnswer(JSON.parse(text) as Answer, input);
      return { picks, costUsd };
    } catch (error) {
      if (input.signal?.aborted) throw new AppError("CANCELLED", "Pair selection was cancelled");
      const reason = redact(
        error instanceof Error ? error.message : String(error),
        this.options.apiKey,
      ).slice(0, 300);
      this.options.logger?.warn(
        { selector: this.name, reason },
        "model selection unusable; falling back to the heuristic",
      );
      const result = await this.fallback.select(input);
      return { ...result, costUsd, note: `${this.name} fell back to the heuristic selector: ${reason}` };
    }
  }

  private async userContent(
    input: SelectorInput,
  ): Promise<OpenAI.Chat.Completions.ChatCompletionContentPart[]> {
    const facts = input.assets.map((asset) => ({
      id: asset.id,
      filename: asset.filename,
      size: `${asset.width}x${asset.height}`,
      room: effectiveRoomType(asset),
      tags: asset.tags.slice(0, 12),
      flags: asset.flags,
      sharpness: round2(asset.sharpness),
      exposure: round2(asset.exposure),
    }));
    const parts: OpenAI.Chat.Completions.ChatCompletionContentPart[] = [
      {
        type: "text",
        text: JSON.stringify({
          aspectRatio: input.aspectRatio,
          mood: input.mood,
          plan: input.plan.map((sceneType, index) => ({ index, sceneType })),
          photos: facts,
        }),
      },
    ];
    if (input.imageUrl) {
      for (const asset of input.assets.slice(0, MAX_IMAGES)) {
        parts.push({ type: "text", text: `Photo ${asset.id}:` });
        parts.push({ type: "image_url", image_url: { url: await input.imageUrl(asset.id), detail: "low" } });
      }
    }
    return parts;
  }

  private cost(usage: { prompt_tokens?: number; completion_tokens?: number } | undefined): number {
    if (!usage) return 0;
    const price = XAI_PRICES[this.options.model] ?? XAI_PRICES["grok-4"]!;
    return (
      Math.round(
        (((usage.prompt_tokens ?? 0) * price.inputPerMTok +
          (usage.completion_tokens ?? 0) * price.outputPerMTok) /
          1e6) *
          10_000,
      ) / 10_000
    );
  }
}

const SYSTEM_PROMPT = `You direct a real-estate listing video. For every scene of the plan choose a first photo and a last photo of the SAME space (the video model moves from one to the other), a camera move, and a short visual prompt describing the space (no people, no text, nothing not visible in the photos).
Rules: use only the photo ids given; never use floor plans or photos flagged DOCUMENT; do not use a photo in two scenes unless there are too few photos; prefer sharp, well-exposed photos that match the scene type; the first and last photo should be visually continuous.
Answer with JSON only: {"scenes": [{"index", "firstAssetId", "lastAssetId", "cameraMove", "prompt", "confidence" (0..1), "reasoning" (one sentence)}]}, one entry per plan index.`;

/** Checks the model's answer against the campaign; throws (with the rule broken) when unusable. */
export function validateAnswer(answer: Answer, input: SelectorInput): ScenePick[] {
  if (!answer || !Array.isArray(answer.scenes)) throw new Error("answer has no scenes");
  const byId = new Map(input.assets.map((asset) => [asset.id, asset]));
  const eligible = input.assets.filter(
    (a) => effectiveRoomType(a) !== "FLOOR_PLAN" && !a.flags.includes("DOCUMENT"),
  );
  const reuseAllowed = eligible.length < input.plan.length * 2;
  const used = new Set<string>();
  const picks: ScenePick[] = [];
  for (const [index, sceneType] of input.plan.entries()) {
    const scenes = answer.scenes.filter((scene) => scene.index === index);
    if (scenes.length !== 1) throw new Error(`scene ${index} answered ${scenes.length} times`);
    const scene = scenes[0]!;
    for (const id of new Set([scene.firstAssetId, scene.lastAssetId])) {
      const asset = byId.get(id);
      if (!asset)
        throw new Error(
          `scene ${index}: photo ${String(id).slice(0, 40)} is not one of the campaign's photos`,
        );
      if (asset.flags.includes("DOCUMENT") || effectiveRoomType(asset) === "FLOOR_PLAN") {
        throw new Error(`scene ${index}: photo ${id} is a document or floor plan`);
      }
      if (used.has(id) && !reuseAllowed) throw new Error(`scene ${index}: photo ${id} is used twice`);
      used.add(id);
    }
    if (!(CAMERA_MOVES as readonly string[]).includes(scene.cameraMove))
      throw new Error(`scene ${index}: unknown camera move`);
    picks.push({
      index,
      sceneType,
      firstAssetId: scene.firstAssetId,
      lastAssetId: scene.lastAssetId,
      cameraMove: scene.cameraMove as CameraMove,
      prompt: String(scene.prompt ?? "").slice(0, 500),
      confidence: Math.min(1, Math.max(0, Number(scene.confidence) || 0)),
      reasoning: String(scene.reasoning ?? "").slice(0, 500),
    });
  }
  if (answer.scenes.length !== input.plan.length)
    throw new Error(`answered ${answer.scenes.length} scenes for a plan of ${input.plan.length}`);
  return picks;
}

const round2 = (value: number) => Math.round(value * 100) / 100;
