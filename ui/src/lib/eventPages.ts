/**
 * Which part of a long event list is in memory, as immutable values (no I/O, no Svelte).
 *
 * The list (newest first, one filter/search) is a run of *segments*. Each is what one
 * `list_events` call returned: it remembers its cursor (`before`: every row has `seq < before`), how
 * many rows it has and its oldest seq, so its rows can be dropped from memory and fetched again with
 * the same query (`before_seq = before, limit = count`) when the user scrolls back. The next page's
 * cursor is the last segment's oldest seq. Live events go in front as a new (or the first, merged)
 * segment, so rows never move between segments and a row's index is stable until events arrive.
 *
 * Only `before_seq` paging exists in the contract, so the list grows as the user scrolls down (like
 * a mail client), and the memory bound comes from `evict`: segments far from the viewport lose their
 * rows, keeping their place.
 */

export interface Segment {
  /** The query cursor: every row has `seq < before`. */
  readonly before: number;
  /** How many rows the segment has (known while evicted too). */
  readonly count: number;
  /** The oldest seq in the segment: the next segment's cursor. */
  readonly min: number;
  /** The rows' seqs, newest first; null while evicted. */
  readonly seqs: readonly number[] | null;
}

export interface Pages {
  readonly segments: readonly Segment[];
  /** The core has nothing older: no next page. */
  readonly exhausted: boolean;
}

export const EMPTY_PAGES: Pages = { segments: [], exhausted: false };

export function totalRows(pages: Pages): number {
  let n = 0;
  for (const s of pages.segments) n += s.count;
  return n;
}

export function loadedRows(pages: Pages): number {
  let n = 0;
  for (const s of pages.segments) if (s.seqs) n += s.count;
  return n;
}

/** The cursor of the next page: `null` for the first one, `undefined` when exhausted. */
export function nextCursor(pages: Pages): number | null | undefined {
  if (pages.exhausted) return undefined;
  const last = pages.segments[pages.segments.length - 1];
  return last ? last.min : null;
}

/** A row: its index in the whole list and its seq (null while its segment is evicted). */
export interface Row {
  index: number;
  seq: number | null;
}

/** Rows `first..=last` (clamped to the list). */
export function rowsIn(pages: Pages, first: number, last: number): Row[] {
  const rows: Row[] = [];
  let start = 0;
  for (const s of pages.segments) {
    const end = start + s.count;
    if (end > first && start <= last) {
      const from = Math.max(first, start);
      const to = Math.min(last, end - 1);
      for (let i = from; i <= to; i++) {
        rows.push({ index: i, seq: s.seqs ? (s.seqs[i - start] as number) : null });
      }
    }
    if (start > last) break;
    start = end;
  }
  return rows;
}

export function seqAt(pages: Pages, index: number): number | null {
  return rowsIn(pages, index, index)[0]?.seq ?? null;
}

/** The index of a loaded row with this seq, or -1. */
export function indexOfSeq(pages: Pages, seq: number): number {
  let start = 0;
  for (const s of pages.segments) {
    if (s.seqs && seq < s.before && seq >= s.min) {
      const i = s.seqs.indexOf(seq);
      if (i >= 0) return start + i;
    }
    start += s.count;
  }
  return -1;
}

/**
 * A page arrived for `cursor` (asked with `limit`). Ignored unless `cursor` is still the next
 * cursor: live events may have arrived meanwhile, and the caller then asks again.
 */
export function appendPage(
  pages: Pages,
  cursor: number | null,
  seqs: readonly number[],
  limit: number,
): Pages {
  if (nextCursor(pages) !== cursor) return pages;
  const exhausted = seqs.length < limit;
  if (seqs.length === 0) return { segments: pages.segments, exhausted };
  const segment: Segment = {
    before: cursor ?? (seqs[0] as number) + 1,
    count: seqs.length,
    min: seqs[seqs.length - 1] as number,
    seqs,
  };
  return { segments: [...pages.segments, segment], exhausted };
}

/** The newest seq the list covers, or -Infinity for an empty one. */
export function topSeq(pages: Pages): number {
  const first = pages.segments[0];
  return first ? first.before - 1 : -Infinity;
}

/**
 * Live events for the top of the list (any order; older ones than the top are ignored).
 * Returns the new pages and how many rows were added at index 0.
 */
export function prependLive(
  pages: Pages,
  seqs: readonly number[],
  mergeUpTo: number,
): { pages: Pages; added: number } {
  const top = topSeq(pages);
  const fresh = [...new Set(seqs.filter((s) => s > top))].sort((a, b) => b - a);
  if (fresh.length === 0) return { pages, added: 0 };
  const before = (fresh[0] as number) + 1;
  const [first, ...rest] = pages.segments;
  if (first?.seqs && first.count + fresh.length <= mergeUpTo) {
    const merged: Segment = {
      before,
      count: first.count + fresh.length,
      min: first.min,
      seqs: [...fresh, ...first.seqs],
    };
    return {
      pages: { segments: [merged, ...rest], exhausted: pages.exhausted },
      added: fresh.length,
    };
  }
  const segment: Segment = {
    before,
    count: fresh.length,
    min: fresh[fresh.length - 1] as number,
    seqs: fresh,
  };
  return {
    pages: { segments: [segment, ...pages.segments], exhausted: pages.exhausted },
    added: fresh.length,
  };
}

/** Evicted segments that overlap rows `first..=last`: fetch them again. */
export function missingIn(pages: Pages, first: number, last: number): Segment[] {
  const out: Segment[] = [];
  let start = 0;
  for (const s of pages.segments) {
    const end = start + s.count;
    if (!s.seqs && end > first && start <= last) out.push(s);
    start = end;
  }
  return out;
}

/** Rows fetched again for an evicted segment (found by its cursor; ignored if it is gone). */
export function refill(pages: Pages, before: number, seqs: readonly number[]): Pages {
  const i = pages.segments.findIndex((s) => s.before === before);
  const old = pages.segments[i];
  if (!old || seqs.length === 0) return pages;
  // Same query, so same rows, unless events were deleted meanwhile: then the count shrinks.
  const segment: Segment = {
    before,
    count: seqs.length,
    min: seqs[seqs.length - 1] as number,
    seqs,
  };
  const segments = [...pages.segments];
  segments[i] = segment;
  return { segments, exhausted: pages.exhausted };
}

/**
 * Drops the rows of the segments farthest from rows `first..=last` until at most `maxLoaded` rows
 * are held; segments overlapping `first..=last` are always kept. Returns the dropped seqs too.
 */
export function evict(
  pages: Pages,
  first: number,
  last: number,
  maxLoaded: number,
): { pages: Pages; dropped: number[] } {
  let loaded = loadedRows(pages);
  if (loaded <= maxLoaded) return { pages, dropped: [] };
  const distances: { i: number; distance: number }[] = [];
  let start = 0;
  pages.segments.forEach((s, i) => {
    const end = start + s.count - 1;
    if (s.seqs) {
      const distance = end < first ? first - end : start > last ? start - last : 0;
      if (distance > 0) distances.push({ i, distance });
    }
    start = end + 1;
  });
  distances.sort((a, b) => b.distance - a.distance);
  const segments = [...pages.segments];
  const dropped: number[] = [];
  for (const { i } of distances) {
    if (loaded <= maxLoaded) break;
    const s = segments[i] as Segment;
    dropped.push(...(s.seqs ?? []));
    loaded -= s.count;
    segments[i] = { ...s, seqs: null };
  }
  return { pages: { segments, exhausted: pages.exhausted }, dropped };
}

/** Every seq held in memory. */
export function loadedSeqs(pages: Pages): number[] {
  return pages.segments.flatMap((s) => s.seqs ?? []);
}

/** Drops the rows of every loaded segment outside `first..=last` (e.g. their read flags went stale). */
export function evictOutside(
  pages: Pages,
  first: number,
  last: number,
): { pages: Pages; dropped: number[] } {
  return evict(pages, first, last, 0);
}
