/// <reference types="vitest/config" />
// The dashboard's build: into the Python package (cfgctl/server/dashboard/), served by
// `cfgctl serve` at / with its assets under /_dashboard/assets/ (cfgctl/server/webapp.py).
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

export default defineConfig({
  plugins: [react()],
  base: "/_dashboard/",
  build: {
    outDir: "../cfgctl/server/dashboard",
    emptyOutDir: true,
    assetsDir: "assets",
    // index.html is served with a CSP that forbids inline script: never inline anything.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    reportCompressedSize: false,
  },
  server: {
    proxy: { "/api": "http://127.0.0.1:8080" },
  },
  test: {
    environment: "jsdom",
    globals: true,
    setupFiles: ["./test/setup.ts"],
    include: ["test/**/*.test.{ts,tsx}"],
    css: false,
    // One jsdom per worker, not one per test file: test/setup.ts undoes what a test leaves
    // (Testing Library's cleanup, session storage cleared; the API client's fetch is passed in,
    // never stubbed globally), and a run of the ten files takes 8 s of CPU instead of 23
    // (setting up jsdom and importing React once per file was most of it). Shuffled file
    // orders pass too (`npx vitest run --sequence.shuffle`).
    isolate: false,
  },
});
