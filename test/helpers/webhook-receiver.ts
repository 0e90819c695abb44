import http from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

/** One request the receiver got, with what verifying it said. */
export interface ReceivedWebhook {
  at: number;
  /** The request's path: give each endpoint its own to tell their deliveries apart. */
  path: string;
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  /** Which of the receiver's secrets verified it (independent Standard Webhooks implementation). */
  verifiedWith: string[];
  status: number;
}

/**
 * A partner's webhook receiver on 127.0.0.1: records every request, verifies each with the
 * `standardwebhooks` package against every secret it has been given, and answers with
 * `answer(request index)` (default 200).
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  readonly secrets: string[] = [];
  /** The status to answer with, or "hang" to never answer (the sender's timeout, or its death, ends it). */
  answer: (index: number, request: ReceivedWebhook) => number | "hang" = () => 200;
  /** Called with every request as it arrives. */
  onRequest: (request: ReceivedWebhook) => void = () => {};
  private readonly server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const headers = {
        "webhook-id": String(request.headers["webhook-id"] ?? ""),
        "webhook-timestamp": String(request.headers["webhook-timestamp"] ?? ""),
        "webhook-signature": String(request.headers["webhook-signature"] ?? ""),
      };
      const verifiedWith = this.secrets.filter((secret) => {
        try {
          new Webhook(secret).verify(body, headers);
          return true;
        } catch {
          return false;
        }
      });
      const entry: ReceivedWebhook = {
        at: Date.now(),
        path: request.url ?? "",
        id: headers["webhook-id"],
        timestamp: headers["webhook-timestamp"],
        signature: headers["webhook-signature"],
        body,
        verifiedWith,
        status: 0,
      };
      const answer = this.answer(this.received.length, entry);
      this.received.push(entry);
      this.onRequest(entry);
      if (answer === "hang") return;
      entry.status = answer;
      response.writeHead(entry.status, { "content-type": "text/plain" });
      response.end(entry.status >= 300 ? "receiver says no" : "ok");
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The requests to one path. */
  static to(path: string): (request: ReceivedWebhook) => boolean {
    return (request) => request.path === path;
  }

  /** Waits until `count` requests matching `filter` have arrived. */
  async waitFor(
    count: number,
    filter: (request: ReceivedWebhook) => boolean = () => true,
    timeoutMs = 60_000,
  ): Promise<ReceivedWebhook[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const matching = this.received.filter(filter);
      if (matching.length >= count) return matching;
      if (Date.now() > deadline)
        throw new Error(
          `timed out waiting for ${count} webhooks; got ${matching.length} of ${this.received.length}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
