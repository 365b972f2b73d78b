/**
 * Answers that never change (an execution's revision, a pipeline version's structure), kept as
 * promises so that callers asking at once share one read. A failed read is forgotten, so the next
 * caller asks again; past `limit` entries the oldest goes.
 */
export class PromiseMemo<T> {
  private readonly known = new Map<string, Promise<T>>();

  constructor(private readonly limit: number) {}

  get(key: string, read: () => Promise<T>): Promise<T> {
    const known = this.known.get(key);
    if (known) return known;
    const value = read();
    value.catch(() => this.known.delete(key));
    if (this.known.size >= this.limit) this.known.delete(this.known.keys().next().value as string);
    this.known.set(key, value);
    return value;
  }
}
