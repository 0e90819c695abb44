import type { Services } from "../container.js";
import type { JobHandler } from "./worker.js";

/** One attempt at one partner webhook message; its retry, if any, is a new job (src/webhooks/webhook-deliverer.ts). */
export const deliverWebhookJob =
  (services: Services): JobHandler<"webhook.deliver"> =>
  async (ref) => {
    await services.webhookDeliverer.deliver(ref);
  };
