import "@mantine/core/styles.css";
import { createRoot } from "react-dom/client";
import { App } from "./app.js";
import { SessionStore } from "./session/session.store.js";

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root");
createRoot(root).render(<App store={new SessionStore()} />);
