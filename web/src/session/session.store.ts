import { type ApiClients, createApiClients } from "../api/api-clients.js";
import { describeError } from "../api/error-messages.js";
import { ViewerDocument } from "../gql/graphql.js";
import { forgetKey, readStoredKey, storeKey } from "./key-storage.js";

export interface Session {
  /** Distinct per sign-in: what shows a session remounts for the next one. */
  id: number;
  clients: ApiClients;
  signOut(reason?: string): void;
}

export interface SessionState {
  session: Session | null;
  /** Why the user is looking at the sign-in form (bad or revoked key, signed out). */
  notice: string | null;
}

const EXPIRED = "Your API key is no longer accepted (revoked or mistyped). Please sign in again.";

/**
 * Who is signed in, outside React (the app reads it with useSyncExternalStore). A session is
 * the API clients for one key; a 401 from the HTTP API or a 4403 close of the socket ends it.
 */
export class SessionStore {
  private state: SessionState;
  private readonly listeners = new Set<() => void>();
  private opened = 0;

  constructor() {
    // A key kept from earlier in this tab is used straight away; the first query checks it.
    const stored = readStoredKey();
    this.state = { session: stored ? this.open(stored) : null, notice: null };
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): SessionState => this.state;

  /** Checks the key with the `viewer` query and keeps it only when the service accepts it; returns the problem. */
  signIn = async (typed: string): Promise<string | null> => {
    const key = typed.trim();
    if (!key) return "Enter your API key.";
    const candidate = this.open(key);
    const result = await candidate.clients.http
      .query(ViewerDocument, {}, { requestPolicy: "network-only" })
      .toPromise();
    if (!result.data) {
      candidate.clients.dispose();
      return describeError(result.error);
    }
    storeKey(key);
    this.state.session?.clients.dispose();
    this.set({ session: candidate, notice: null });
    return null;
  };

  private open(key: string): Session {
    const session: Session = {
      id: ++this.opened,
      clients: createApiClients(key, () => this.end(session, EXPIRED)),
      signOut: (reason) => this.end(session, reason),
    };
    return session;
  }

  private end(session: Session, reason?: string): void {
    session.clients.dispose();
    // A late 401 from a replaced session, or from a key being tried, changes nothing.
    if (this.state.session !== session) return;
    forgetKey();
    this.set({ session: null, notice: reason ?? null });
  }

  private set(state: SessionState): void {
    this.state = state;
    for (const listener of this.listeners) listener();
  }
}
