import { Client, cacheExchange, fetchExchange, mapExchange } from "@urql/core";
import { createClient as createWsClient, type Client as WsClient } from "graphql-ws";

/** The graphql-ws client and whether its socket is open (the library does not say). */
export interface Socket {
  client: WsClient;
  connected(): boolean;
}

/**
 * The two connections the console keeps to the service that served it: urql over HTTP for
 * queries and mutations, graphql-ws on the same path for subscriptions. Both carry the API key
 * the user signed in with (a header; `connection_init` for the socket), never a URL.
 */
export interface ApiClients {
  http: Client;
  socket: Socket;
  dispose(): void;
}

export function graphqlWebSocketUrl(location: Location): string {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`;
}

export function createApiClients(apiKey: string, onUnauthenticated: () => void): ApiClients {
  const http = new Client({
    url: "/graphql",
    // Apollo's CSRF guard wants a non-simple request; POST + application/json always is.
    preferGetMethod: false,
    requestPolicy: "cache-and-network",
    fetchOptions: () => ({ headers: { "x-api-key": apiKey } }),
    exchanges: [
      cacheExchange,
      mapExchange({
        onError(error) {
          if (error.response?.status === 401) onUnauthenticated();
        },
      }),
      fetchExchange,
    ],
  });
  let open = false;
  const ws = createWsClient({
    url: graphqlWebSocketUrl(window.location),
    connectionParams: { apiKey },
    lazy: true,
    lazyCloseTimeout: 2_000,
    // Reconnecting is ours (resumable-subscription.ts): it resumes after the last sequence seen.
    retryAttempts: 0,
    // A ping every 10 s notices a dead connection that never sent a close frame.
    keepAlive: 10_000,
    on: {
      connected: () => {
        open = true;
      },
      closed: (event) => {
        open = false;
        if ((event as { code?: number }).code === 4403) onUnauthenticated();
      },
    },
  });
  return {
    http,
    socket: { client: ws, connected: () => open },
    dispose() {
      void ws.dispose();
    },
  };
}
