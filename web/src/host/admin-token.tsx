import { useState } from "preact/hooks";
import { saveAdminToken } from "../lib/saved.js";
import { session } from "./services.js";

/**
 * Shown when an admin call is refused (401, or 403 for a wrong token): asks
 * for the server's admin token (ADMIN_TOKEN, or the one it printed on its
 * first start). The token is kept in this tab's session storage only and
 * sent as `Authorization: Bearer`.
 */
export function AdminTokenForm({ onSaved }: { onSaved: () => void }) {
  const [token, setToken] = useState("");
  return (
    <form
      class="card admin-form"
      aria-labelledby="admin-title"
      onSubmit={(e) => {
        e.preventDefault();
        saveAdminToken(session, token.trim());
        onSaved();
      }}
    >
      <h2 id="admin-title">This server needs its admin token</h2>
      <p class="muted">
        Creating, editing and deleting quizzes needs the server's admin token: its ADMIN_TOKEN, or
        the token it printed in its log when it first started. It is kept in this browser tab until
        you close it.
      </p>
      <label for="admin-token">Admin token</label>
      <input
        id="admin-token"
        type="password"
        autoComplete="off"
        value={token}
        onInput={(e) => setToken(e.currentTarget.value)}
      />
      <button type="submit" class="btn btn-primary" disabled={token.trim() === ""}>
        Save token
      </button>
    </form>
  );
}
