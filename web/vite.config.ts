import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";
import { apiProxy, BUILD_TARGET } from "./vite.shared.js";

/** The console: web/index.html → dist/console, served by propvid at `/`. */
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "/",
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL("../dist/console", import.meta.url)),
    emptyOutDir: true,
    target: BUILD_TARGET,
    assetsDir: "assets",
    reportCompressedSize: false,
    rolldownOptions: {
      output: {
        // Libraries change less often than the app: their own files stay cached across releases.
        codeSplitting: {
          groups: [
            { name: "react", test: /node_modules[\\/](react|react-dom|scheduler)[\\/]/ },
            {
              name: "mantine",
              test: /node_modules[\\/](@mantine|@floating-ui|react-remove-scroll|react-number-format)/,
            },
          ],
        },
      },
    },
  },
  server: { port: 5173, strictPort: true, proxy: apiProxy() },
  preview: { proxy: apiProxy() },
});
