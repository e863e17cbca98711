/** The host app's client-side routes (the player app lives at /play on its own page). */
export type Route =
  | { name: "library" }
  | { name: "new-quiz" }
  | { name: "edit-quiz"; quizId: string }
  | { name: "start-quiz"; quizId: string }
  | { name: "host"; roomId: string }
  | { name: "screen"; roomId: string | null; pin: string | null }
  | { name: "not-found"; path: string };

function segment(s: string | undefined): string | null {
  if (s === undefined || s === "") return null;
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

/** The route a path and query string name. */
export function matchRoute(pathname: string, search = ""): Route {
  const parts = pathname.replace(/\/+$/, "").split("/").slice(1);
  const [a, b, c, ...rest] = parts;
  if (rest.length > 0) return { name: "not-found", path: pathname };
  if (a === undefined || a === "") return { name: "library" };
  if (a === "quiz") {
    if (b === "new" && c === undefined) return { name: "new-quiz" };
    const id = segment(b);
    if (id === null) return { name: "not-found", path: pathname };
    if (c === undefined) return { name: "edit-quiz", quizId: id };
    if (c === "start") return { name: "start-quiz", quizId: id };
  }
  if (a === "host" && c === undefined) {
    const id = segment(b);
    if (id !== null) return { name: "host", roomId: id };
  }
  if (a === "screen" && c === undefined) {
    const pin = new URLSearchParams(search).get("pin");
    return { name: "screen", roomId: segment(b), pin: pin && pin.length > 0 ? pin : null };
  }
  return { name: "not-found", path: pathname };
}

/** The path of a route (the inverse of matchRoute). */
export function routePath(route: Exclude<Route, { name: "not-found" }>): string {
  switch (route.name) {
    case "library":
      return "/";
    case "new-quiz":
      return "/quiz/new";
    case "edit-quiz":
      return `/quiz/${encodeURIComponent(route.quizId)}`;
    case "start-quiz":
      return `/quiz/${encodeURIComponent(route.quizId)}/start`;
    case "host":
      return `/host/${encodeURIComponent(route.roomId)}`;
    case "screen": {
      const base = route.roomId ? `/screen/${encodeURIComponent(route.roomId)}` : "/screen";
      return route.pin ? `${base}?pin=${encodeURIComponent(route.pin)}` : base;
    }
  }
}
