import { describe, expect, it } from 'vitest';
import type { Change, EventQuery } from '$lib/bindings';
import { FakeBackend } from './fake';

const query = (q: Partial<EventQuery> = {}): EventQuery => ({
  feed: null,
  search: null,
  before_seq: null,
  unread_only: false,
  limit: 0,
  ...q,
});

describe('the fake backend', () => {
  it('names feeds like the core and rejects bad input with CommandError', async () => {
    const fake = new FakeBackend();
    const feed = await fake.addFeed({ url: 'https://ntfy.sh/alerts/sse', name: null, headers: [] });
    expect(feed.name).toBe('ntfy.sh/sse');
    await expect(
      fake.addFeed({ url: 'https://ntfy.sh/alerts/sse', name: null, headers: [] }),
    ).rejects.toMatchObject({ code: 'feed_exists' });
    await expect(
      fake.addFeed({ url: 'ftp://example.com/files', name: null, headers: [] }),
    ).rejects.toMatchObject({ code: 'invalid_url', message: expect.stringContaining('`ftp`') });
    const socket = await fake.addFeed({ url: 'wss://example.com/socket', name: null, headers: [] });
    expect(socket).toMatchObject({ name: 'example.com/socket', kind: 'websocket' });
    expect(feed.kind).toBe('sse');
    await expect(
      fake.addFeed({ url: 'example.com/events', name: null, headers: [] }),
    ).rejects.toMatchObject({ code: 'invalid_url', message: expect.stringContaining('no scheme') });
    await expect(
      fake.addFeed({ url: 'https://a.example/e', name: null, headers: ['no colon'] }),
    ).rejects.toMatchObject({ code: 'invalid_header' });
  });

  it('lists newest first, pages with before_seq, filters and searches', async () => {
    const fake = new FakeBackend();
    fake.seedFeed({ url: 'https://a.example/one', name: 'one', headers: [] });
    fake.seedFeed({ url: 'https://a.example/two', name: 'two', headers: [] });
    fake.seedEvents('one', 120);
    fake.storeEvents('two', [{ title: 'deploy of web finished', body: 'all green' }]);
    const first = await fake.listEvents(query({ limit: 50 }));
    expect(first).toHaveLength(50);
    expect(first[0]?.title).toBe('deploy of web finished');
    const seqs = first.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
    const next = await fake.listEvents(query({ limit: 50, before_seq: first[49]!.seq }));
    expect(next[0]!.seq).toBe(first[49]!.seq - 1);
    expect(await fake.listEvents(query({ feed: 'two' }))).toHaveLength(1);
    expect((await fake.listEvents(query({ search: 'depl gree' }))).map((e) => e.feed)).toEqual([
      'two',
    ]);
    expect(await fake.listEvents(query({ search: 'ploy' }))).toHaveLength(0); // prefixes only
    await expect(fake.listEvents(query({ feed: 'nope' }))).rejects.toMatchObject({
      code: 'feed_not_found',
    });
  });

  it('batches changes into one delivery', async () => {
    const fake = new FakeBackend({ batchMs: 5 });
    const batches: Change[][] = [];
    fake.onChanges((c) => batches.push(c));
    fake.seedFeed({ url: 'https://a.example/one', name: 'one', headers: [] });
    fake.storeEvents('one', [{}, {}]);
    fake.setFeedState('one', { kind: 'paused' });
    await new Promise((r) => setTimeout(r, 20));
    expect(batches).toHaveLength(1);
    expect(batches[0]!.map((c) => c.change)).toEqual(['events_stored', 'feed_state']);
  });
});
