import { createContext, type ReactNode, useContext, useSyncExternalStore } from "react";
import { Provider as UrqlProvider } from "urql";
import type { Session, SessionState, SessionStore } from "./session.store.js";

interface SessionControls extends SessionState {
  signIn: SessionStore["signIn"];
}

const SessionContext = createContext<SessionControls | null>(null);

export function useSessionControls(): SessionControls {
  const controls = useContext(SessionContext);
  if (!controls) throw new Error("useSessionControls outside SessionProvider");
  return controls;
}

/** The signed-in session; only used below the sign-in gate. */
export function useSession(): Session {
  const { session } = useSessionControls();
  if (!session) throw new Error("useSession without a session");
  return session;
}

export function SessionProvider({ store, children }: { store: SessionStore; children: ReactNode }) {
  const state = useSyncExternalStore(store.subscribe, store.getSnapshot);
  return (
    <SessionContext.Provider value={{ ...state, signIn: store.signIn }}>
      {state.session ? (
        // keyed: a new session remounts what it shows, with its own client and cache
        <UrqlProvider key={state.session.id} value={state.session.clients.http}>
          {children}
        </UrqlProvider>
      ) : (
        children
      )}
    </SessionContext.Provider>
  );
}
