import { describe, expect, it } from 'vitest';
import {
  appendPage,
  EMPTY_PAGES,
  evict,
  indexOfSeq,
  loadedRows,
  missingIn,
  nextCursor,
  prependLive,
  refill,
  rowsIn,
  totalRows,
  type Pages,
} from './eventPages';

/** Seqs from `top` down, `n` of them. */
const down = (top: number, n: number) => Array.from({ length: n }, (_, i) => top - i);

function threePages(): Pages {
  let p = appendPage(EMPTY_PAGES, null, down(1000, 100), 100);
  p = appendPage(p, 901, down(900, 100), 100);
  return appendPage(p, 801, down(800, 100), 100);
}

describe('event pages', () => {
  it('pages with the oldest seq as the next cursor until a short page', () => {
    let p = appendPage(EMPTY_PAGES, null, down(1000, 100), 100);
    expect(nextCursor(p)).toBe(901);
    p = appendPage(p, 901, down(900, 30), 100);
    expect(p.exhausted).toBe(true);
    expect(nextCursor(p)).toBeUndefined();
    expect(totalRows(p)).toBe(130);
    expect(rowsIn(p, 98, 101).map((r) => r.seq)).toEqual([902, 901, 900, 899]);
  });

  it('ignores a page answered for a cursor that is no longer the next one', () => {
    const p = appendPage(EMPTY_PAGES, null, down(1000, 100), 100);
    expect(appendPage(p, null, down(1000, 100), 100)).toBe(p);
  });

  it('puts live events in front, newest first, and ignores ones it already covers', () => {
    const p = appendPage(EMPTY_PAGES, null, down(1000, 10), 100);
    const { pages, added } = prependLive(p, [1002, 999, 1001], 100);
    expect(added).toBe(2);
    expect(rowsIn(pages, 0, 3).map((r) => r.seq)).toEqual([1002, 1001, 1000, 999]);
    expect(pages.segments).toHaveLength(1); // merged into the first page
    expect(pages.segments[0]?.before).toBe(1003);
  });

  it('starts a new segment when the first one is full', () => {
    const p = appendPage(EMPTY_PAGES, null, down(1000, 100), 100);
    const { pages } = prependLive(p, [1001], 100);
    expect(pages.segments).toHaveLength(2);
    expect(indexOfSeq(pages, 1000)).toBe(1);
  });

  it('drops the farthest pages beyond the limit and refetches them by cursor', () => {
    const p = threePages();
    const { pages, dropped } = evict(p, 250, 260, 200);
    expect(dropped).toEqual(down(1000, 100));
    expect(loadedRows(pages)).toBe(200);
    expect(totalRows(pages)).toBe(300); // places are kept
    expect(rowsIn(pages, 0, 0)).toEqual([{ index: 0, seq: null }]);
    const missing = missingIn(pages, 0, 10);
    expect(missing.map((s) => [s.before, s.count])).toEqual([[1001, 100]]);
    const back = refill(pages, 1001, down(1000, 100));
    expect(rowsIn(back, 0, 1).map((r) => r.seq)).toEqual([1000, 999]);
  });

  it('never drops what is in view', () => {
    const { pages } = evict(threePages(), 0, 299, 10);
    expect(loadedRows(pages)).toBe(300);
  });
});
