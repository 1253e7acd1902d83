/**
 * Runs reloadOnce one call at a time: a request that arrives during a reload
 * is answered by that reload's promise and runs one more reload after it, so
 * a file changed mid-read is never missed. Resolves true when any run changed
 * something.
 */
export function serialReload(reloadOnce: () => Promise<boolean>): () => Promise<boolean> {
  let running: Promise<boolean> | undefined;
  let again = false;
  return () => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        let changed = await reloadOnce();
        while (again) {
          again = false;
          changed = (await reloadOnce()) || changed;
        }
        return changed;
      } finally {
        running = undefined;
      }
    })();
    return running;
  };
}
