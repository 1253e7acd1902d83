import { useEffect, useRef, useState } from "preact/hooks";
import { allows, connectionState, subscribe, watch } from "./api.js";

export function useConnection() {
  const [state, setState] = useState(connectionState());
  useEffect(() => subscribe(setState), []);
  return state;
}

/**
 * What the caller may do, from its grants (WhoAmI): can("register", namespace, service).
 * False while the grants are loading, so no action shows before it is known to be allowed.
 */
export function useCan() {
  const { grants } = useConnection();
  return (permission, namespace, service) => grants !== undefined && allows(grants, permission, namespace, service);
}

/**
 * Runs a watch for as long as the component shows it (and its deps stay the
 * same); onEvent sees every event. No watch while params is null.
 */
export function useWatch(service, method, params, onEvent, deps) {
  const handler = useRef(onEvent);
  handler.current = onEvent;
  useEffect(() => (params ? watch(service, method, params, (name, data) => handler.current(name, data)) : undefined), deps);
}

/**
 * A re-render at most once per animation frame, for streams that change state
 * many times a second; onFrame runs once per frame before it (work per batch
 * of events rather than per event).
 */
export function useFrameUpdate(onFrame) {
  const [, setTick] = useState(0);
  const pending = useRef(false);
  const frame = useRef(onFrame);
  frame.current = onFrame;
  return () => {
    if (pending.current) return;
    pending.current = true;
    requestAnimationFrame(() => {
      pending.current = false;
      frame.current?.();
      setTick((n) => n + 1);
    });
  };
}

/** Loads once per key; returns {data, error, reload}. */
export function useLoad(load, deps) {
  const [result, setResult] = useState({ data: undefined, error: undefined });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    load().then(
      (data) => live && setResult({ data, error: undefined }),
      (error) => live && setResult({ data: undefined, error }),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  return { ...result, reload: () => setTick((n) => n + 1) };
}
