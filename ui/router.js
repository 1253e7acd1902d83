import { useEffect, useState } from "preact/hooks";

// Deep links: the server answers every dot-free path with this page, and the page routes itself.

const listeners = new Set();

export function navigate(path) {
  if (path === location.pathname + location.search) return;
  history.pushState(null, "", path);
  for (const listener of listeners) listener();
}

export function useLocation() {
  const [, setTick] = useState(0);
  useEffect(() => {
    const update = () => setTick((n) => n + 1);
    listeners.add(update);
    addEventListener("popstate", update);
    return () => {
      listeners.delete(update);
      removeEventListener("popstate", update);
    };
  }, []);
  return { path: location.pathname, query: new URLSearchParams(location.search) };
}

/** Same-tab navigation for plain left clicks on local links; others (new tab, …) stay the browser's. */
export function onLinkClick(event) {
  const link = event.target.closest?.("a[href]");
  if (!link || link.target || link.origin !== location.origin) return;
  // In-page anchors (the skip link) keep the browser's behaviour: scroll and focus.
  if (link.hash && link.pathname === location.pathname) return;
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  navigate(link.pathname + link.search);
}
