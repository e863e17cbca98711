import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { matchRoute, type Route } from "../lib/routes.js";

const listeners = new Set<() => void>();

/** Goes to an app path without reloading (history.pushState). */
export function navigate(path: string, replace = false): void {
  if (replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  for (const l of listeners) l();
  window.scrollTo(0, 0);
}

/** The current route; re-renders on navigate() and on the browser's back/forward. */
export function useRoute(): Route {
  const read = () => matchRoute(location.pathname, location.search);
  const [route, setRoute] = useState<Route>(read);
  useEffect(() => {
    const update = () => setRoute(read());
    listeners.add(update);
    window.addEventListener("popstate", update);
    return () => {
      listeners.delete(update);
      window.removeEventListener("popstate", update);
    };
  }, []);
  return route;
}

interface LinkProps {
  href: string;
  class?: string;
  children: ComponentChildren;
  target?: string;
  "aria-label"?: string;
  "data-testid"?: string;
}

/** An ordinary link (it works with a middle click and "open in new tab") that navigates in place. */
export function Link(props: LinkProps) {
  const { href, children, target, ...rest } = props;
  return (
    <a
      href={href}
      target={target}
      rel={target === "_blank" ? "noopener" : undefined}
      {...rest}
      onClick={(e) => {
        if (target || e.defaultPrevented || e.button !== 0) return;
        if (e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
        e.preventDefault();
        navigate(href);
      }}
    >
      {children}
    </a>
  );
}
