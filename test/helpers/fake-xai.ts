import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

type Mode = "good" | "foreign-id" | "server-error" | "not-json";

interface Photo {
  id: string;
  room: string;
  flags: string[];
}

const SCENE_ROOMS: Record<string, string[]> = {
  EXTERIOR: ["EXTERIOR", "VIEW", "POOL"],
  LIVING: ["LIVING"],
  KITCHEN: ["KITCHEN", "DINING"],
  DINING: ["DINING", "KITCHEN"],
  BEDROOM: ["BEDROOM"],
  BATH: ["BATH"],
  OUTDOOR: ["POOL", "VIEW", "EXTERIOR"],
};

/**
 * A local server speaking xAI's OpenAI-compatible chat completions API: bearer auth, the
 * `response_format: json_schema` contract (the answer is JSON per the given schema), image parts
 * FETCHED when they are URLs (an unreachable photo is a 400, as the real API does), usage tokens.
 */
export class FakeXai {
  mode: Mode = "good";
  readonly requests: { body: Record<string, unknown>; imageCount: number }[] = [];
  readonly fetchedImages: { url: string; status: number }[] = [];
  private server!: Server;
  url = "";

  constructor(private readonly apiKey: string) {}

  get baseUrl(): string {
    return `${this.url}/v1`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
      };
      this.handle(req)
        .then(([status, body]) => json(status, body))
        .catch((error) => json(500, { error: { message: String(error), type: "server_error" } }));
    });
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage): Promise<[number, unknown]> {
    if (req.method !== "POST" || req.url !== "/v1/chat/completions")
      return [404, { error: { message: "Not found" } }];
    if (req.headers.authorization !== `Bearer ${this.apiKey}`) {
      return [
        401,
        {
          error: {
            message: "Incorrect API key provided",
            type: "invalid_request_error",
            code: "invalid_api_key",
          },
        },
      ];
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
      model: string;
      messages: {
        role: string;
        content: string | { type: string; text?: string; image_url?: { url: string } }[];
      }[];
      response_format?: { type: string; json_schema?: { name: string; schema: unknown } };
    };
    const parts = body.messages.flatMap((m) =>
      Array.isArray(m.content) ? m.content : [{ type: "text", text: m.content }],
    );
    const images = parts.filter((p) => p.type === "image_url").map((p) => p.image_url!.url);
    this.requests.push({ body: body as unknown as Record<string, unknown>, imageCount: images.length });
    if (this.mode === "server-error")
      return [500, { error: { message: "The server had an error", type: "server_error" } }];
    if (body.response_format?.type !== "json_schema" || !body.response_format.json_schema?.schema) {
      return [
        400,
        {
          error: {
            message: "response_format json_schema is required by this fake",
            type: "invalid_request_error",
          },
        },
      ];
    }
    for (const url of images) {
      if (url.startsWith("data:image/")) continue;
      const response = await fetch(url).catch(() => null);
      this.fetchedImages.push({ url, status: response?.status ?? 0 });
      if (!response?.ok)
        return [
          400,
          {
            error: {
              message: `Failed to fetch image: ${response?.status ?? "error"}`,
              type: "invalid_request_error",
            },
          },
        ];
      await response.arrayBuffer();
    }
    const facts = parts
      .filter((p) => p.type === "text" && p.text?.startsWith("{"))
      .map(
        (p) => JSON.parse(p.text!) as { plan: { index: number; sceneType: string }[]; photos: Photo[] },
      )[0]!;
    const answer = this.answer(facts);
    const content = this.mode === "not-json" ? "Sure! Here are the scenes." : JSON.stringify(answer);
    return [
      200,
      {
        id: `chatcmpl-${Date.now()}`,
        object: "chat.completion",
        created: Math.floor(Date.now() / 1000),
        model: body.model,
        choices: [
          {
            index: 0,
            message: { role: "assistant", content, refusal: null },
            finish_reason: "stop",
            logprobs: null,
          },
        ],
        usage: {
          prompt_tokens: 9_000 + images.length * 256,
          completion_tokens: 800,
          total_tokens: 9_800 + images.length * 256,
        },
      },
    ];
  }

  private answer(facts: { plan: { index: number; sceneType: string }[]; photos: Photo[] }) {
    const usable = facts.photos.filter((p) => !p.flags.includes("DOCUMENT") && p.room !== "FLOOR_PLAN");
    const used = new Set<string>();
    const take = (rooms: string[]) => {
      const found =
        usable.find((p) => !used.has(p.id) && rooms.includes(p.room)) ??
        usable.find((p) => !used.has(p.id)) ??
        usable[0]!;
      used.add(found.id);
      return found.id;
    };
    const scenes = facts.plan.map(({ index, sceneType }) => {
      const rooms = SCENE_ROOMS[sceneType] ?? [];
      const first = take(rooms);
      const last = take(rooms);
      return {
        index,
        firstAssetId:
          this.mode === "foreign-id" && index === 0 ? "00000000-0000-0000-0000-000000000000" : first,
        lastAssetId: last,
        cameraMove: index % 2 ? "TRUCK_RIGHT" : "PUSH_IN",
        prompt: `A ${sceneType.toLowerCase()} shown in soft daylight`,
        confidence: 0.8,
        reasoning: `Chosen by the fake for ${sceneType}`,
      };
    });
    return { scenes };
  }
}
