import { type ConnectionState, connectionIsFatal, connectionText } from "../lib/connection.js";
import { useLocalNow } from "../net/room-hook.js";

/**
 * The "connection lost, retrying" strip at the top of every game screen.
 * A passing problem is a polite status; a final one is an alert.
 */
export function ConnectionBanner({ state }: { state: ConnectionState }) {
  const now = useLocalNow(state.kind === "lost" && state.retryAt !== null);
  const text = connectionText(state, now);
  const fatal = connectionIsFatal(state);
  return (
    <div
      class={text ? `banner ${fatal ? "banner-fatal" : "banner-warn"}` : "banner banner-hidden"}
      role={fatal ? "alert" : "status"}
      aria-live={fatal ? "assertive" : "polite"}
      data-testid="connection-banner"
    >
      {text}
    </div>
  );
}
