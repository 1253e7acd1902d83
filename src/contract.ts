/**
 * Constants of the wire contract, shared by the server and the SDK (like
 * errors.ts): defined once here, re-exported where each side needs them.
 */

/** The namespace an empty namespace field means, in every service and in the SDK. */
export const DEFAULT_NAMESPACE = "default";

/** Trailer carrying the current revision of a key when a compare-and-set fails (ABORTED). */
export const CURRENT_REVISION_TRAILER = "switchboard-current-revision";
