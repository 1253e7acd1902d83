import { readFileSync } from "node:fs";

/** Environment variable holding a bearer token. */
export const TOKEN_ENV = "SWITCHBOARD_TOKEN";
/** Environment variable naming a file that holds a bearer token. */
export const TOKEN_FILE_ENV = "SWITCHBOARD_TOKEN_FILE";

/**
 * The bearer token to send, by precedence: explicit token, explicit token
 * file, $SWITCHBOARD_TOKEN, $SWITCHBOARD_TOKEN_FILE; undefined when none is
 * set (calls go without credentials). Files are read once, trimmed.
 */
export function resolveToken(
  options: { token?: string | undefined; tokenFile?: string | undefined },
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  if (options.token !== undefined && options.token.trim() !== "") return options.token.trim();
  if (options.tokenFile !== undefined && options.tokenFile !== "") return readToken(options.tokenFile);
  const fromEnv = env[TOKEN_ENV];
  if (fromEnv !== undefined && fromEnv.trim() !== "") return fromEnv.trim();
  const file = env[TOKEN_FILE_ENV];
  if (file !== undefined && file !== "") return readToken(file);
  return undefined;
}

function readToken(file: string): string {
  const token = readFileSync(file, "utf8").trim();
  if (token === "") throw new Error(`token file ${file} is empty`);
  return token;
}
