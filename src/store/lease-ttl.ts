/** etcd's lease floor with its default election timeout; both backends raise shorter TTLs to it. */
export const MIN_LEASE_TTL_SECONDS = 2;

/** The TTL a grant actually gets: whole seconds (etcd's unit), at least the floor. */
export function grantedTtl(ttlSeconds: number): number {
  return Math.max(MIN_LEASE_TTL_SECONDS, Math.ceil(ttlSeconds));
}
