/**
 * The web door: serves the built web app (Vite's output in dist/web) at `/`.
 * Hashed assets under /assets/ are cached for a year; the two HTML pages
 * (index.html for the host app, play.html for players) are never cached and
 * carry a Content-Security-Policy that allows no inline script. Client-side
 * routes of the app fall back to their page. GET /web-config.json tells the
 * app where phones can reach the server, for the join link and QR code.
 */
import { existsSync, readFileSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Config } from "../../config.js";
import type { Door } from "../door.js";

export interface WebDoorOptions {
  config: Pick<Config, "publicUrl" | "port" | "adminToken">;
  /** The built app's directory (holding index.html, play.html, assets/); found by itself when absent. */
  root?: string;
}

/** Client-side routes of the host app (index.html) and of the player page (play.html). */
export const HOST_APP_ROUTES = ["/", "/quiz/*", "/host/*", "/screen", "/screen/*"] as const;
export const PLAYER_ROUTES = ["/play", "/play/*"] as const;
export const WEB_CONFIG_PATH = "/web-config.json";
/** Paths that are never pages of the app, even when a browser asks for them. */
const MACHINE_PATHS = /^\/(?:api|internal|ws|docs|assets|health|healthz|readyz|metrics)(?:\/|$)/;

const HTML_HEADERS = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-cache",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
} as const;

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>quizwire</title></head>
<body>
<h1>The quizwire web app is not built</h1>
<p>The server is running, but the web app has not been built yet. Run <code>npm run build</code>
(or <code>npm start</code>, which builds it) and reload this page.</p>
<p>The REST API is described at <a href="/docs">/docs</a>.</p>
</body></html>
`;

/** Where the built app is: next to the compiled server (dist/web), or dist/web when run from src. */
export function findWebRoot(): string | null {
  const candidates = [
    new URL("../../web/", import.meta.url),
    new URL("../../../dist/web/", import.meta.url),
  ];
  for (const c of candidates) {
    const dir = fileURLToPath(c);
    if (existsSync(`${dir}index.html`) && existsSync(`${dir}play.html`)) return dir;
  }
  return null;
}

/**
 * The policy sent with every page: scripts, styles and everything else from
 * this server only (no inline script, no eval), WebSockets to this host,
 * images also as data: URLs (the favicon) and from any http(s) address (a
 * question's picture may be an outside URL), no framing.
 */
export function contentSecurityPolicy(host: string | undefined): string {
  const safeHost = host && /^[A-Za-z0-9.\-:[\]]{1,255}$/.test(host) ? host : null;
  const connect = safeHost ? `'self' ws://${safeHost} wss://${safeHost}` : "'self'";
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob: https: http:",
    `connect-src ${connect}`,
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** This machine's IPv4 addresses other phones on the network may reach. */
export function lanAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.family === "IPv4" && !a.internal) out.push(a.address);
    }
  }
  return out;
}

/** The port the request came in on (from its Host header), else the configured one. */
function requestPort(req: FastifyRequest, fallback: number): number {
  const m = /:(\d{1,5})$/.exec(req.headers.host ?? "");
  if (m) return Number(m[1]);
  return req.protocol === "https" ? 443 : fallback > 0 ? fallback : 80;
}

/** What GET /web-config.json answers. */
export interface WebConfigBody {
  public_url: string | null;
  lan_urls: string[];
  admin_token_required: boolean;
}

export function createWebDoor(opts: WebDoorOptions): Door {
  return {
    routes: async (app: FastifyInstance) => {
      const root = opts.root ?? findWebRoot();
      const pages = root
        ? {
            index: readFileSync(`${root}/index.html`),
            play: readFileSync(`${root}/play.html`),
          }
        : null;

      if (root && existsSync(`${root}/assets`)) {
        await app.register(fastifyStatic, {
          root: `${root}/assets`,
          prefix: "/assets/",
          decorateReply: false,
          // Vite puts a content hash in every asset's name: a changed file is a new URL.
          immutable: true,
          maxAge: "365d",
          index: false,
          schemaHide: true,
          setHeaders: (res) => {
            res.header("x-content-type-options", "nosniff");
          },
        });
      }

      const send = (page: "index" | "play") => async (req: FastifyRequest, reply: FastifyReply) => {
        reply.headers(HTML_HEADERS);
        reply.header("content-security-policy", contentSecurityPolicy(req.headers.host));
        if (!pages) return reply.code(503).send(NOT_BUILT);
        return reply.send(pages[page]);
      };
      for (const url of HOST_APP_ROUTES) app.get(url, { schema: { hide: true } }, send("index"));
      for (const url of PLAYER_ROUTES) app.get(url, { schema: { hide: true } }, send("play"));
      // Any other page a browser asks for gets the app, which says "page not found" in words
      // (with a 404); API clients and machine paths keep the API's JSON 404.
      app.get("/*", { schema: { hide: true } }, async (req, reply) => {
        const path = req.url.split("?")[0] ?? "/";
        const wantsHtml = /\btext\/html\b/.test(req.headers.accept ?? "");
        if (!wantsHtml || MACHINE_PATHS.test(path)) return reply.callNotFound();
        reply.code(404);
        return send("index")(req, reply);
      });

      const defaultPublicUrl = `http://localhost:${opts.config.port}`;
      app.get(WEB_CONFIG_PATH, { schema: { hide: true } }, async (req, reply) => {
        const configured = opts.config.publicUrl !== defaultPublicUrl;
        const port = requestPort(req, opts.config.port);
        const scheme = req.protocol === "https" ? "https" : "http";
        const body: WebConfigBody = {
          public_url: configured ? opts.config.publicUrl : null,
          lan_urls: configured ? [] : lanAddresses().map((a) => `${scheme}://${a}:${port}`),
          admin_token_required: opts.config.adminToken !== null,
        };
        return reply.header("cache-control", "no-store").send(body);
      });
    },
  };
}
