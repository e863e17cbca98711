import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";
import { HostConsole } from "./console.js";
import { Editor } from "./editor.js";
import { Library } from "./library.js";
import { Link, useRoute } from "./router.js";
import { BigScreen } from "./screen.js";
import { Setup } from "./setup.js";

/** The host app: library, editor, session setup, host console and big screen. */
export function HostApp() {
  const route = useRoute();
  // After navigating, focus moves to the new page (screen readers start there), not the old link.
  const first = useRef(true);
  const path = `${location.pathname}${location.search}`;
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    const t = setTimeout(() => document.getElementById("main")?.focus({ preventScroll: true }), 0);
    return () => clearTimeout(t);
  }, [path]);
  // The console and the big screen fill the screen; the other pages get the app's header.
  const fullScreen = route.name === "host" || route.name === "screen";
  let page: ComponentChildren;
  switch (route.name) {
    case "library":
      page = <Library />;
      break;
    case "new-quiz":
      page = <Editor quizId={null} />;
      break;
    case "edit-quiz":
      page = <Editor quizId={route.quizId} />;
      break;
    case "start-quiz":
      page = <Setup quizId={route.quizId} />;
      break;
    case "host":
      page = <HostConsole key={route.roomId} roomId={route.roomId} />;
      break;
    case "screen":
      page = (
        <BigScreen key={`${route.roomId}:${route.pin}`} roomId={route.roomId} pin={route.pin} />
      );
      break;
    case "not-found":
      page = (
        <div class="page">
          <h1>Page not found</h1>
          <p>There is nothing at {route.path}.</p>
          <Link href="/" class="btn btn-primary">
            Go to the library
          </Link>
        </div>
      );
      break;
  }
  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      {fullScreen ? (
        page
      ) : (
        <>
          <header class="app-bar">
            <Link href="/" class="brand" aria-label="quizwire: quiz library">
              quizwire
            </Link>
            <nav aria-label="Main">
              <Link href="/">Library</Link>
              <Link href="/screen">Big screen</Link>
              <a href="/play">Join a game</a>
            </nav>
          </header>
          <main id="main" class="app-main" tabIndex={-1}>
            {page}
          </main>
        </>
      )}
    </>
  );
}
