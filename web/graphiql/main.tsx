import "graphiql/setup-workers/vite";
import "graphiql/style.css";
import { createGraphiQLFetcher } from "@graphiql/toolkit";
import { GraphiQL } from "graphiql";
import { createClient } from "graphql-ws";
import { type FormEvent, useMemo, useState } from "react";
import { createRoot } from "react-dom/client";
import { graphqlWebSocketUrl } from "../src/api/api-clients.js";
import { forgetKey, readStoredKey, storeKey } from "../src/session/key-storage.js";

/**
 * GraphiQL for integrators, bundled (no CDN). The API key — the console's, when signed in in
 * this tab — goes in the `x-api-key` header of every HTTP request and in `connection_init` of
 * the WebSocket, so queries, mutations and subscriptions all work. It is kept in session storage
 * like the console's, never in GraphiQL's persisted headers.
 */

const EXAMPLE = `# Live progress of a job: a SNAPSHOT, then every event until it ends.
# Start one with createVideoJob, then paste its id below.
subscription Progress($jobId: ID!) {
  videoJobProgress(jobId: $jobId) {
    sequence
    type
    job { status stage progress }
    scene { index status progress }
  }
}

query Campaigns {
  campaigns(first: 10) {
    edges { node { id name assets(first: 3) { edges { node { filename status } } } } }
  }
}
`;

function KeyForm({ onKey }: { onKey(key: string): void }) {
  const [key, setKey] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (key.trim()) onKey(key.trim());
  };
  return (
    <main style={{ maxWidth: 480, margin: "4rem auto", fontFamily: "system-ui, sans-serif" }}>
      <h1>propvid GraphiQL</h1>
      <form onSubmit={submit}>
        <p>
          <label htmlFor="api-key">API key</label>
          <br />
          <input
            id="api-key"
            type="password"
            autoComplete="off"
            value={key}
            onChange={(event) => setKey(event.currentTarget.value)}
            style={{ width: "100%", padding: 8 }}
          />
        </p>
        <button type="submit">Use key</button>
      </form>
    </main>
  );
}

function Explorer({ apiKey, onForget }: { apiKey: string; onForget(): void }) {
  const fetcher = useMemo(
    () =>
      createGraphiQLFetcher({
        url: "/graphql",
        headers: { "x-api-key": apiKey },
        wsClient: createClient({
          url: graphqlWebSocketUrl(window.location),
          connectionParams: { apiKey },
          lazy: true,
        }),
      }),
    [apiKey],
  );
  return (
    <div style={{ height: "100%", display: "flex", flexDirection: "column" }}>
      <header style={{ padding: "4px 12px", fontFamily: "system-ui, sans-serif", fontSize: 14 }}>
        propvid GraphiQL · <a href="/">console</a> · signed in with {apiKey.slice(0, 13)}…{" "}
        <button type="button" onClick={onForget}>
          Forget key
        </button>
      </header>
      <div style={{ flex: 1, minHeight: 0 }}>
        <GraphiQL fetcher={fetcher} defaultQuery={EXAMPLE} />
      </div>
    </div>
  );
}

function App() {
  const [apiKey, setApiKey] = useState(readStoredKey());
  if (!apiKey) {
    return (
      <KeyForm
        onKey={(key) => {
          storeKey(key);
          setApiKey(key);
        }}
      />
    );
  }
  return (
    <Explorer
      apiKey={apiKey}
      onForget={() => {
        forgetKey();
        setApiKey(null);
      }}
    />
  );
}

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root");
createRoot(root).render(<App />);
