// Cursor paging: a list is an async iterable over every item of every page
// (`for await`), and `.page({cursor})` fetches one page as the API sends it.

/** Reads one page for a cursor (undefined for the first page). */
export type PageFetcher<Page, Cursor> = (cursor: Cursor | undefined, signal: AbortSignal | undefined) => Promise<Page>;

export class PagedList<Item, Page, Cursor> implements AsyncIterable<Item> {
  constructor(
    private readonly fetchPage: PageFetcher<Page, Cursor>,
    private readonly itemsOf: (page: Page) => Item[],
    private readonly nextOf: (page: Page) => Cursor | null | undefined,
    private readonly signal: AbortSignal | undefined,
  ) {}

  /** One page, as the API sends it; pass its `next_cursor` as `cursor` for the next one. */
  page(options: { cursor?: Cursor | null } = {}): Promise<Page> {
    return this.fetchPage(options.cursor ?? undefined, this.signal);
  }

  /** Every page in turn, from the first (or from `cursor`). */
  async *pages(options: { cursor?: Cursor | null } = {}): AsyncGenerator<Page, void, undefined> {
    let cursor: Cursor | null | undefined = options.cursor;
    do {
      const page = await this.fetchPage(cursor ?? undefined, this.signal);
      yield page;
      cursor = this.nextOf(page);
    } while (cursor !== null && cursor !== undefined);
  }

  /** Every item of every page; the next page is fetched when the previous one is used up. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Item, void, undefined> {
    for await (const page of this.pages()) yield* this.itemsOf(page);
  }

  /** Collects every item (at most `max`, default unlimited) into an array. */
  async toArray(options: { max?: number } = {}): Promise<Item[]> {
    const out: Item[] = [];
    const max = options.max ?? Infinity;
    if (max <= 0) return out;
    for await (const item of this) {
      out.push(item);
      if (out.length >= max) break;
    }
    return out;
  }
}
