export { createXdsBootstrap } from "./bootstrap.js";
export type { XdsBootstrapOptions } from "./bootstrap.js";
export { NAMESPACE_METADATA_KEY, nodeNamespace, parseResourceName, qualifiedName } from "./names.js";
export type { XdsServiceName } from "./names.js";
export { TYPE_URLS, buildCluster, buildListener, buildLoadAssignment } from "./resources.js";
