import type { FastifyInstance } from "fastify";
import type { Services } from "../container.js";
import { returnedRows } from "../db/sql.js";
import { AppError } from "../errors.js";
import { PREDICTION_ID, PREDICTION_WAKEUPS_CHANNEL } from "../providers/replicate/prediction-waiter.js";
import { type Prediction, TERMINAL } from "../providers/replicate/replicate-client.js";
import { verifyWebhook } from "../providers/replicate/webhook-signature.js";

/** Standard Webhooks ids are short tokens (`msg_…`); anything else is not a delivery of theirs. */
const WEBHOOK_ID = /^[\x21-\x7e]{1,256}$/;

/**
 * POST /v1/webhooks/replicate: a signed (Standard Webhooks) notice that a prediction ended.
 * Verified, then recorded by `webhook-id` (the same delivery twice has one effect) and, for a
 * finished prediction, announced through PostgreSQL in the same transaction: whichever worker
 * process waits on it wakes at once. The adapter reads the state itself, so order and repetition
 * cannot mislead it.
 */
export async function registerWebhookRoutes(
  app: FastifyInstance,
  deps: { services: Services },
): Promise<void> {
  const { services } = deps;
  await app.register(async (scope) => {
    // The signature covers the exact bytes: keep the body as text.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", { parseAs: "string", bodyLimit: 1024 * 1024 }, (_request, body, done) =>
      done(null, body),
    );
    scope.post("/v1/webhooks/replicate", async (request, reply) => {
      const body = typeof request.body === "string" ? request.body : "";
      const header = (name: string) => {
        const value = request.headers[name];
        return typeof value === "string" ? value : undefined;
      };
      const id = header("webhook-id");
      // Stored once per delivery: bounded and printable, whatever the signature says (ABUSE 34).
      if (id !== undefined && !WEBHOOK_ID.test(id)) {
        throw new AppError("BAD_USER_INPUT", "webhook-id must be 1 to 256 printable ASCII characters");
      }
      const verdict = verifyWebhook(
        services.config.replicate.webhookSecret,
        {
          id,
          timestamp: header("webhook-timestamp"),
          signature: header("webhook-signature"),
        },
        body,
      );
      if (!verdict.ok) {
        request.log.warn({ reason: verdict.reason }, "replicate webhook refused");
        throw new AppError("UNAUTHENTICATED", "Invalid webhook signature");
      }
      let prediction: Prediction;
      try {
        prediction = JSON.parse(body) as Prediction;
      } catch {
        throw new AppError("BAD_USER_INPUT", "The webhook body is not JSON");
      }
      // Only a finished prediction is worth waking a waiter for (it reads the state itself).
      const wake =
        typeof prediction?.id === "string" &&
        PREDICTION_ID.test(prediction.id) &&
        TERMINAL.has(prediction.status)
          ? prediction.id
          : null;
      // One statement, one transaction: recorded and announced together, or neither.
      const fresh =
        returnedRows(
          await services.dataSource.query(
            `WITH recorded AS (
               INSERT INTO webhook_delivery (id, provider) VALUES ($1, 'replicate') ON CONFLICT (id) DO NOTHING RETURNING id
             )
             SELECT id, CASE WHEN $2::text IS NOT NULL THEN pg_notify($3, $2) END FROM recorded`,
            [id, wake, PREDICTION_WAKEUPS_CHANNEL],
          ),
        ).length > 0;
      return await reply.code(200).send(fresh ? { ok: true } : { ok: true, duplicate: true });
    });
  });
}
