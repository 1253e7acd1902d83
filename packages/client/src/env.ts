import { ADDRESS_ENV } from "./addresses.js";
import { CACHE_FILE_ENV, CONFIG_ENV_PREFIX, NAMESPACE_ENV, PROFILE_ENV, SERVICE_ENV } from "./bootstrap.js";
import { CA_FILE_ENV, CERT_FILE_ENV, KEY_FILE_ENV } from "./tls.js";
import { TOKEN_ENV, TOKEN_FILE_ENV } from "./token.js";

/**
 * The environment variables the SDK reads for its defaults, by role: a deployment sets these
 * instead of passing options. Explicit options always win over them.
 */
export const SWITCHBOARD_ENV = {
  /** Control-plane address(es), comma-separated ("cp-1:7000,cp-2:7000"). Default "localhost:7000". */
  address: ADDRESS_ENV,
  /** Bearer token sent with every call. */
  token: TOKEN_ENV,
  /** File holding the bearer token (read once, trimmed), used when `token` is unset. */
  tokenFile: TOKEN_FILE_ENV,
  /** PEM CA file of the control plane's certificate; any of the three TLS variables turns TLS on. */
  caFile: CA_FILE_ENV,
  /** PEM client certificate (mTLS); needs keyFile. */
  certFile: CERT_FILE_ENV,
  /** PEM private key of certFile. */
  keyFile: KEY_FILE_ENV,
  /** bootstrap(): the namespace. Default "default". */
  namespace: NAMESPACE_ENV,
  /** bootstrap(): the service whose configuration is read. */
  service: SERVICE_ENV,
  /** bootstrap(): the profile (e.g. "prod"). Default none. */
  profile: PROFILE_ENV,
  /** bootstrap(): the last-known-configuration file. */
  cacheFile: CACHE_FILE_ENV,
  /**
   * bootstrap(): prefix of per-key overrides; key "db.pool-size" is overridden by
   * SWITCHBOARD_CONFIG_DB_POOL_SIZE (upper case, dots and dashes become underscores).
   */
  configPrefix: CONFIG_ENV_PREFIX,
} as const;
