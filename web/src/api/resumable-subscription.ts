import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { stringifyDocument } from "@urql/core";
import type { Socket } from "./api-clients.js";

export type LinkState = "connecting" | "live" | "reconnecting";

export interface ResumableHandlers<Data> {
  onData(data: Data): void;
  onState(state: LinkState): void;
  /** The server ended the subscription (e.g. after a job's terminal event). */
  onComplete(): void;
  /** A GraphQL error or a refused key (not a dropped connection): the subscription stops. */
  onError(errors: unknown): void;
  /** After a reconnect, before the new subscription's first event (e.g. to refetch a list). */
  onReconnected?(): void;
}

/** Close codes after which retrying cannot help: the key is bad or revoked. */
const FATAL_CLOSE_CODES = new Set([4403]);
const FIRST_RETRY_MS = 250;
const LAST_RETRY_MS = 4_000;

function closeCodeOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "number" ? code : undefined;
}

/**
 * A subscription that survives dropped connections: when the socket closes it waits (250 ms,
 * doubling to 4 s) and subscribes again with `variables()` evaluated afresh, so a progress
 * subscription passes the last sequence it saw as `afterSequence` and misses or repeats nothing.
 * Returns the function that stops it.
 */
export function subscribeResumably<Data, Variables extends Record<string, unknown>>(
  socket: Socket,
  document: TypedDocumentNode<Data, Variables>,
  variables: () => Variables,
  handlers: ResumableHandlers<Data>,
): () => void {
  const query = stringifyDocument(document);
  let stopped = false;
  let retryMs = FIRST_RETRY_MS;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let unsubscribe: (() => void) | undefined;
  let reconnecting = false;

  const offConnected = socket.client.on("connected", () => {
    if (stopped) return;
    retryMs = FIRST_RETRY_MS;
    if (reconnecting) handlers.onReconnected?.();
    reconnecting = false;
    handlers.onState("live");
  });

  const attempt = () => {
    if (stopped) return;
    // On an open socket no "connected" event comes: the subscription is live at once.
    if (socket.connected()) {
      if (reconnecting) handlers.onReconnected?.();
      reconnecting = false;
      handlers.onState("live");
    }
    unsubscribe = socket.client.subscribe<Data>(
      { query, variables: variables() },
      {
        next: (result) => {
          if (result.errors?.length) handlers.onError(result.errors);
          else if (result.data) handlers.onData(result.data as Data);
        },
        complete: () => {
          if (!stopped) handlers.onComplete();
        },
        error: (error) => {
          if (stopped) return;
          // graphql-ws reports GraphQL errors as an array; anything else is the socket failing.
          const code = closeCodeOf(error);
          if (Array.isArray(error) || (code !== undefined && FATAL_CLOSE_CODES.has(code))) {
            handlers.onError(error);
            return;
          }
          reconnecting = true;
          handlers.onState("reconnecting");
          timer = setTimeout(attempt, retryMs);
          retryMs = Math.min(LAST_RETRY_MS, retryMs * 2);
        },
      },
    );
  };
  handlers.onState(socket.connected() ? "live" : "connecting");
  attempt();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    offConnected();
    unsubscribe?.();
  };
}
