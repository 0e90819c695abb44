import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";
import { apiProxy, BUILD_TARGET } from "../vite.shared.js";

/**
 * GraphiQL, a build of its own (web/graphiql → dist/graphiql, served at `/graphiql` outside
 * production): the console never loads its code, and production can leave the folder out.
 */
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "/graphiql/",
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL("../../dist/graphiql", import.meta.url)),
    emptyOutDir: true,
    target: BUILD_TARGET,
    assetsDir: "assets",
    reportCompressedSize: false,
    // Monaco is one large chunk by nature; GraphiQL is a developer tool loaded on its own route.
    chunkSizeWarningLimit: 6_000,
    rolldownOptions: {
      // GraphiQL's React-compiler directives ("use no memo") are hints the bundle may drop.
      onwarn(warning, warn) {
        if (warning.code !== "MODULE_LEVEL_DIRECTIVE") warn(warning);
      },
    },
  },
  worker: { format: "es" },
  server: { port: 5174, strictPort: true, proxy: apiProxy() },
});
