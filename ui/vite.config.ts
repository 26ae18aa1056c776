import { defineConfig } from "vite";

// Preact through the automatic JSX runtime (no preset plugin needed);
// `quasm serve` serves dist/ (embedded) with the API on the same origin.
export default defineConfig({
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  resolve: {
    alias: { react: "preact/compat", "react-dom": "preact/compat" },
  },
  build: {
    target: "es2022",
    sourcemap: false,
    chunkSizeWarningLimit: 4096,
    reportCompressedSize: false,
  },
  worker: { format: "es" },
  server: {
    proxy: { "/api": process.env.QUASM_URL ?? "http://127.0.0.1:8080" },
  },
});
