/**
 * Builds a value once, on first use, for every later call in this process (a Lambda container or
 * the sandbox). Concurrent first calls share one build; a failed build is forgotten, so the next
 * call tries again instead of failing forever.
 */
export function lazy<T>(build: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= build().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}
