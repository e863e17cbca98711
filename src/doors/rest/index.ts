/**
 * The REST door: quizzes, the question bank, sessions, and the OpenAPI
 * document that describes them (GET /openapi.json, Swagger UI at /docs).
 * Routes validate with TypeBox's own compiler, answer errors in the one
 * format of errors.ts, and hold no game rules: sessions are driven through
 * the same room commands as the WebSocket doors, through RoomHandles, so a
 * request may reach any instance, whichever one runs the session.
 */
import cors from "@fastify/cors";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import { TypeBoxValidatorCompiler } from "@fastify/type-provider-typebox";
import type { FastifyInstance, FastifySchemaCompiler } from "fastify";
import type { Logger } from "pino";
import type { TSchema } from "typebox";
import { v7 as uuidv7 } from "uuid";
import type { IdentityService } from "../../auth/identity.js";
import type { Config } from "../../config.js";
import type { ClientErrorLog } from "../../observability/client-error-log.js";
import type { Metrics } from "../../observability/metrics.js";
import type { Clock, Random } from "../../ports/clock.js";
import type { Storage } from "../../ports/storage.js";
import type { PinGate } from "../../services/pin-gate.js";
import type { SessionService } from "../../services/session-service.js";
import type { OriginPolicy } from "../origin-policy.js";
import { RestAuth, refuseBadJwt, SECURITY_SCHEMES } from "./auth.js";
import { registerBankRoutes } from "./bank-routes.js";
import { installErrorHandling, RestError } from "./errors.js";
import { registerImageRoutes } from "./image-routes.js";
import { registerQuizRoutes } from "./quiz-routes.js";
import { registerSessionRoutes } from "./session-routes.js";
import { registerUserDataRoutes } from "./user-data-routes.js";

/** What the REST door needs from the composed server. */
export interface RestDeps {
  config: Config;
  storage: Storage;
  sessions: SessionService;
  identity: IdentityService;
  clock: Clock;
  random: Random;
  metrics: Metrics;
  /** Every lookup of a room by PIN, under the one PIN limit (P-4; Redis when clustered). */
  pinGate: PinGate;
  /** Which browser origins may call across origins (CORS), and which are refused outright. */
  origins: OriginPolicy;
  log: Logger;
  /** The package version, shown in the OpenAPI document. */
  version: string;
  /** A rate-limited WARN line per class of error sent to clients. */
  clientErrors?: ClientErrorLog;
}

/** RestDeps plus what the door builds once: the auth rules and a quiz id source. */
export interface RestContext extends RestDeps {
  auth: RestAuth;
  newId: () => string;
}

export const OPENAPI_PATH = "/openapi.json";
export const DOCS_PATH = "/docs";

export const TAGS = [
  {
    name: "quizzes",
    description: "Quiz documents: create, read, replace, delete, import, export.",
  },
  { name: "bank", description: "The question bank quick-fire contests draw from." },
  { name: "images", description: "Pictures for questions: upload and serve." },
  { name: "sessions", description: "Sessions (rooms): create, join, control, answer, results." },
  { name: "rooms", description: "Public lookups for join pages." },
  {
    name: "admin",
    description: "Seed 000's internal admin aliases; one user's data, exported or erased.",
  },
  {
    name: "seed 002",
    description:
      "Seed 002's leaderboard-stream family: a quiz is a self-paced session (docs/protocols/seed-002.md).",
  },
  {
    name: "contests (seed 004)",
    description:
      "Seed 004's development login and quick-fire contests (docs/protocols/seed-004.md).",
  },
] as const;

/** Some bodies are checked by their own parser (with better messages); their schema only documents them. */
export const documentedBodyOnly: FastifySchemaCompiler<TSchema> = (route) =>
  route.httpPart === "body" ? (value: unknown) => ({ value }) : TypeBoxValidatorCompiler(route);

/** Deep copy without "~"-prefixed keys (TypeBox's markers), so published JSON Schema is clean. */
export function stripMarkers<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => stripMarkers(v)) as T;
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (!k.startsWith("~")) out[k] = stripMarkers(v);
  }
  return out as T;
}

/** What a browser page of an allowed origin may send across origins. */
const CORS_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];
/** How long a browser may cache a preflight answer, in seconds. */
const CORS_MAX_AGE_S = 600;

/**
 * CORS for every HTTP route of the server, with the same origins as the
 * WebSocket doors: an allowed origin is reflected; any other gets no CORS
 * headers and is refused with 403 (reason `origin_not_allowed`), so a page of
 * another site cannot even fire a request that needs no preflight. Requests
 * without `Origin` (scripts, curl, same-origin GETs) are not affected.
 */
async function registerCors(app: FastifyInstance, origins: OriginPolicy): Promise<void> {
  await app.register(cors, {
    delegator: (req, callback) => {
      callback(null, {
        origin: origins.allows(req.headers.origin, req.headers.host),
        methods: CORS_METHODS,
        maxAge: CORS_MAX_AGE_S,
      });
    },
  });
  app.addHook("onRequest", async (req) => {
    // Preflights are @fastify/cors's: a refused origin gets no CORS headers there (and a 404).
    if (req.method === "OPTIONS") return;
    if (!origins.allows(req.headers.origin, req.headers.host)) {
      throw new RestError(
        "FORBIDDEN",
        `requests from origin ${req.headers.origin} are not allowed (ALLOWED_ORIGINS)`,
        "origin_not_allowed",
      );
    }
  });
}

/**
 * Registers the REST door on the root instance: TypeBox validation, the error
 * and not-found handlers (for every route of the server), the OpenAPI
 * document and Swagger UI, and every /api/v1 route plus seed 000's
 * /internal/rooms aliases.
 */
export async function registerRestRoutes(app: FastifyInstance, deps: RestDeps): Promise<void> {
  app.setValidatorCompiler(TypeBoxValidatorCompiler);
  installErrorHandling(app);
  // Every HTTP error response is counted by its stable code, like the WebSocket doors' errors.
  app.addHook("onSend", async (_req, reply, payload) => {
    if (reply.statusCode >= 400 && typeof payload === "string") {
      const code = /"code":"([A-Z_]+)"/.exec(payload)?.[1] ?? String(reply.statusCode);
      deps.metrics.errors.inc({ door: "rest", code });
      deps.clientErrors?.report("rest", code);
    }
    return payload;
  });

  await registerCors(app, deps.origins);

  await app.register(swagger, {
    openapi: {
      openapi: "3.0.3",
      info: {
        title: "quizwire",
        version: deps.version,
        description:
          "quizwire's REST API. Errors always have the body `{ code, message, reason?, issues? }` " +
          "with the HTTP status of `code` (docs/errors.md). Admin routes need the admin token: " +
          "ADMIN_TOKEN, or the token the server generated and printed on its first start when " +
          "it listens on a network address. Only a server bound to loopback with no ADMIN_TOKEN " +
          "leaves them open (to that machine).",
      },
      tags: TAGS.map((t) => ({ ...t })),
      components: { securitySchemes: stripMarkers(SECURITY_SCHEMES) },
    },
    transformObject: (doc) =>
      stripMarkers("openapiObject" in doc ? doc.openapiObject : doc.swaggerObject),
  });
  await app.register(swaggerUi, { routePrefix: DOCS_PATH });

  const ctx: RestContext = {
    ...deps,
    auth: new RestAuth({ identity: deps.identity, adminToken: deps.config.adminToken }),
    newId: () => uuidv7(),
  };
  // A bad JWT is refused on every route of the server, public ones included (docs/errors.md).
  app.addHook("onRequest", refuseBadJwt(ctx.auth));
  await app.register(async (scope) => {
    registerQuizRoutes(scope, ctx);
    registerBankRoutes(scope, ctx);
    registerSessionRoutes(scope, ctx);
    registerUserDataRoutes(scope, ctx);
  });
  await app.register(async (scope) => {
    registerImageRoutes(scope, ctx);
  });

  app.get(OPENAPI_PATH, { schema: { hide: true } }, async () => app.swagger());
}
