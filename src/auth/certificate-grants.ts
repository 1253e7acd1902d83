/**
 * The grants of client-certificate identities (`serve --auth-cert-grants FILE`):
 * under mTLS a verified certificate's identity (first URI SAN, else CN) stands
 * in for a token when the call sends none.
 *
 * The file is JSON: an object from identity to a list of grants, each written
 * as the CLI writes them (`ROLE@NAMESPACE[/SERVICE]`) or as an object
 * `{ "namespace", "service"?, "role" }`:
 *
 *   {
 *     "spiffe://shop/orders": ["register@shop/orders", "read@shop"],
 *     "ops-laptop": [{ "namespace": "*", "role": "admin" }]
 *   }
 *
 *   const grants = parseCertificateGrants(await readFile(file, "utf8"), file);
 */
import { parseGrant, validateGrant } from "./grants.js";
import type { Grant, Role } from "./grants.js";

/** An identity is matched exactly; these bounds only keep a typo from becoming a silent no-match. */
const MAX_IDENTITY = 1024;
const MAX_GRANTS = 64;

/** Parses the file's text; throws an Error naming source and the entry at fault. */
export function parseCertificateGrants(text: string, source = "certificate grants file"): Map<string, Grant[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${source}: not valid JSON (${error instanceof Error ? error.message : String(error)})`, { cause: error });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new Error(`${source}: expected an object from certificate identity to a list of grants`);
  }
  const grants = new Map<string, Grant[]>();
  for (const [identity, list] of Object.entries(parsed)) {
    const where = `${source}: ${JSON.stringify(identity.slice(0, 64))}`;
    if (identity.trim() === "" || identity !== identity.trim() || identity.length > MAX_IDENTITY) {
      throw new Error(`${where}: an identity is a URI SAN or common name without surrounding spaces (1..${MAX_IDENTITY})`);
    }
    if (!Array.isArray(list) || list.length === 0 || list.length > MAX_GRANTS) {
      throw new Error(`${where}: expected a list of 1..${MAX_GRANTS} grants (e.g. ["read@shop"])`);
    }
    grants.set(
      identity,
      list.map((entry: unknown, index) => {
        try {
          return grantOf(entry);
        } catch (error) {
          throw new Error(`${where}[${index}]: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
        }
      }),
    );
  }
  return grants;
}

function grantOf(entry: unknown): Grant {
  if (typeof entry === "string") return parseGrant(entry);
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
    throw new Error('expected "ROLE@NAMESPACE[/SERVICE]" or {"namespace", "service", "role"}');
  }
  const { namespace, service, role, ...rest } = entry as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw new Error(`unknown field "${unknown[0]}" (expected namespace, service, role)`);
  if (typeof namespace !== "string" || typeof role !== "string") throw new Error("namespace and role are strings");
  if (service !== undefined && typeof service !== "string") throw new Error("service is a string");
  return validateGrant(
    { namespace, role: role as Role, ...(service !== undefined && service !== "" && service !== "*" && { service }) },
    "grant",
  );
}
