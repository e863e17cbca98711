import { useState } from "preact/hooks";
import { saveAdminToken } from "../lib/saved.js";
import { local } from "./services.js";

/**
 * Shown when the server wants its ADMIN_TOKEN for quiz editing. The token
 * is kept in this browser only and sent as `Authorization: Bearer`.
 */
export function AdminTokenForm({ onSaved }: { onSaved: () => void }) {
  const [token, setToken] = useState("");
  return (
    <form
      class="card admin-form"
      aria-labelledby="admin-title"
      onSubmit={(e) => {
        e.preventDefault();
        saveAdminToken(local, token.trim());
        onSaved();
      }}
    >
      <h2 id="admin-title">This server needs its admin token</h2>
      <p class="muted">
        Creating, editing and deleting quizzes needs the token the server was started with
        (ADMIN_TOKEN). It is kept in this browser only.
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
