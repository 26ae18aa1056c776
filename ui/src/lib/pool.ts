// Runs async work over items with a few requests in flight at a time, and
// keeps each item's outcome: bulk actions report per-item failures.

export interface Outcome<T> {
  item: T;
  error?: Error;
}

export async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<Outcome<T>[]> {
  const out: Outcome<T>[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      const item = items[i]!;
      try {
        await fn(item);
        out[i] = { item };
      } catch (e) {
        out[i] = { item, error: e instanceof Error ? e : new Error(String(e)) };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
