import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

// Preact through the automatic JSX runtime (no preset plugin needed);
// `quasm serve` serves dist/ (embedded) with the API on the same origin.
export default defineConfig({
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  resolve: {
    alias: {
      react: "preact/compat",
      "react-dom": "preact/compat",
      // The SDK from source (sdk-js/ in this repository): one build, no
      // separate `npm run build` of the package first.
      "@quasm/sdk": fileURLToPath(new URL("../sdk-js/src/index.ts", import.meta.url)),
    },
  },
  build: {
    target: "es2022",
    sourcemap: false,
    chunkSizeWarningLimit: 4096,
    reportCompressedSize: false,
  },
  worker: { format: "es" },
  server: {
    fs: { allow: [".."] },
    proxy: { "/api": process.env.QUASM_URL ?? "http://127.0.0.1:8080" },
  },
});
