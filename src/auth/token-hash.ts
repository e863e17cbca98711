import { createHash } from "node:crypto";

/** Resume tokens are stored only as this hash, so a database leak does not hand out seats. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("base64url");
}
