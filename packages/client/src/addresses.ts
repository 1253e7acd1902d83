/** Control-plane address used when neither options nor SWITCHBOARD_ADDRESS name one. */
export const DEFAULT_ADDRESS = "localhost:7000";

/** Environment variable holding the control-plane address(es), comma-separated. */
export const ADDRESS_ENV = "SWITCHBOARD_ADDRESS";

/** Splits "a:7000, b:7000" into trimmed, non-empty addresses. */
function splitAddresses(value: string): string[] {
  return value
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
}

/**
 * The control-plane addresses to use, by precedence: explicit list, one
 * explicit address (may itself be comma-separated), $SWITCHBOARD_ADDRESS,
 * then {@link DEFAULT_ADDRESS}.
 */
export function resolveAddresses(
  options: { address?: string | undefined; addresses?: readonly string[] | undefined },
  env: NodeJS.ProcessEnv = process.env,
): string[] {
  if (options.addresses !== undefined && options.addresses.length > 0) {
    return options.addresses.flatMap(splitAddresses);
  }
  if (options.address !== undefined && options.address.trim() !== "") return splitAddresses(options.address);
  const fromEnv = env[ADDRESS_ENV];
  if (fromEnv !== undefined && fromEnv.trim() !== "") return splitAddresses(fromEnv);
  return [DEFAULT_ADDRESS];
}
