/**
 * Which browser origins may open WebSockets and call REST across origins.
 * One policy for every door and for CORS:
 *
 * - no `Origin` header (scripts, servers, wscat, curl): allowed — it is
 *   browsers that carry other sites' pages, and browsers send one;
 * - the server's own origin (the request's `Host`, whatever scheme a proxy
 *   in front terminated) and PUBLIC_URL's origin: allowed, so the web app
 *   the server serves always works;
 * - any other origin: only when ALLOWED_ORIGINS lists it.
 */
export class OriginPolicy {
  private readonly listed: ReadonlySet<string>;

  private constructor(
    listed: readonly string[],
    private readonly publicOrigin: string | null,
  ) {
    this.listed = new Set(listed.map(normalizeOrigin).filter((o): o is string => o !== null));
  }

  /** From ALLOWED_ORIGINS (empty when unset: same origin and PUBLIC_URL only) and PUBLIC_URL. */
  static fromConfig(config: {
    allowedOrigins: readonly string[];
    publicUrl: string;
  }): OriginPolicy {
    return new OriginPolicy(config.allowedOrigins, normalizeOrigin(config.publicUrl));
  }

  /** Whether a request with this `Origin` and `Host` may go on. */
  allows(origin: string | undefined, host: string | undefined): boolean {
    if (origin === undefined || origin === "") return true;
    const o = normalizeOrigin(origin);
    if (o === null) return false;
    if (o === this.publicOrigin || this.listed.has(o)) return true;
    return host !== undefined && hostOf(o) === host.toLowerCase();
  }
}

/** `scheme://host[:port]` in lower case with the default port dropped; null when not an http(s) origin. */
function normalizeOrigin(value: string): string | null {
  try {
    const u = new URL(value.trim());
    if (u.protocol !== "http:" && u.protocol !== "https:") return null;
    return u.origin.toLowerCase();
  } catch {
    return null;
  }
}

function hostOf(origin: string): string {
  return new URL(origin).host;
}
