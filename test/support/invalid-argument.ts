import { InvalidArgumentError } from "../../src/errors.js";

/** The field an InvalidArgumentError thrown by fn names; fails when fn throws anything else or nothing. */
export function fieldOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof InvalidArgumentError) return error.field;
    throw error;
  }
  throw new Error("expected an InvalidArgumentError");
}
