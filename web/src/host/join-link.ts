import { useEffect, useState } from "preact/hooks";
import { joinBase, joinUrl, onlyThisMachine } from "../lib/join.js";
import { webConfig } from "./services.js";

/** The link players open for `pin`, and whether it only works on this machine. */
export function useJoinLink(pin: string | null): { url: string | null; localOnly: boolean } {
  const [base, setBase] = useState<string>(() => location.origin);
  useEffect(() => {
    let live = true;
    void webConfig().then((c) => {
      if (live) setBase(joinBase(location.origin, c));
    });
    return () => {
      live = false;
    };
  }, []);
  return { url: pin ? joinUrl(base, pin) : null, localOnly: onlyThisMachine(base) };
}
