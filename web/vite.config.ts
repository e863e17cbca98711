import { fileURLToPath } from "node:url";
import preact from "@preact/preset-vite";
import { defineConfig } from "vite";

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

/**
 * Two pages, two bundles: index.html (host console, library, editor, big
 * screen) and play.html (the phone player), so a phone never downloads the
 * editor or the QR encoder. The server serves dist/web (src/doors/web).
 */
export default defineConfig({
  root: here("."),
  base: "/",
  plugins: [
    preact({ devtoolsInProd: false, reactAliasesEnabled: false }),
    {
      // The dev server's counterpart of the server's routes: /play is the player page.
      name: "quizwire-play-route",
      configureServer(server) {
        server.middlewares.use((req, _res, next) => {
          if (req.url && /^\/play(?:[/?]|$)/.test(req.url)) {
            req.url = req.url.replace(/^\/play/, "/play.html");
          }
          next();
        });
      },
    },
  ],
  build: {
    outDir: here("../dist/web"),
    emptyOutDir: true,
    target: "es2022",
    // No inline scripts or data-URL modules: the server's CSP forbids them.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    rollupOptions: {
      input: { index: here("index.html"), play: here("play.html") },
      output: {
        chunkFileNames: "assets/shared-[hash].js",
        assetFileNames: "assets/app-[hash][extname]",
      },
    },
  },
  server: {
    // `npm run dev:web`: the app on Vite's dev server, talking to a quizwire on :8080.
    proxy: {
      "/api": "http://localhost:8080",
      "/web-config.json": "http://localhost:8080",
      "/ws/v1": { target: "ws://localhost:8080", ws: true },
    },
  },
});
