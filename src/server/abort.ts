/** True for AbortError from any source (abort-controller-x, DOMException, Node). */
export function isAbortError(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { name?: unknown }).name === "AbortError";
}
