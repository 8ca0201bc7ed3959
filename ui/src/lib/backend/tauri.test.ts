import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { emit } from '@tauri-apps/api/event';
import { afterEach, describe, expect, it } from 'vitest';
import type { Change } from '$lib/bindings';
import { insideTauri } from './index';
import { TauriBackend } from './tauri';

afterEach(() => clearMocks());

describe('the Tauri backend', () => {
  it('invokes each command by its contract name with camelCase arguments', async () => {
    const calls: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      return cmd === 'list_events' ? [] : null;
    });
    const backend = new TauriBackend();
    const input = { url: 'https://a.example/e', name: null, headers: ['X: 1'] };
    const query = { feed: 'a', search: 'x', before_seq: 9, unread_only: false, limit: 200 };
    await backend.listFeeds();
    await backend.addFeed(input);
    await backend.editFeed('a', input);
    await backend.removeFeed('a');
    await backend.pauseFeed('a');
    await backend.resumeFeed('a');
    await backend.testFeed(input);
    await backend.addDemoFeed();
    await backend.listEvents(query);
    await backend.getEvent(7);
    await backend.markRead([1, 2]);
    await backend.markAllRead(null);
    await backend.getDoNotDisturb();
    await backend.setDoNotDisturb(true);
    await backend.getAutostart();
    await backend.setAutostart(false);
    await backend.openLink('https://a.example/');
    await backend.painted('shell');
    await backend.takePendingFocus();
    expect(calls).toEqual([
      ['list_feeds', {}],
      ['add_feed', { input }],
      ['edit_feed', { name: 'a', input }],
      ['remove_feed', { name: 'a' }],
      ['pause_feed', { name: 'a' }],
      ['resume_feed', { name: 'a' }],
      ['test_feed', { input }],
      ['add_demo_feed', {}],
      ['list_events', { query }],
      ['get_event', { seq: 7 }],
      ['mark_read', { seqs: [1, 2] }],
      ['mark_all_read', { feed: null }],
      ['get_do_not_disturb', {}],
      ['set_do_not_disturb', { on: true }],
      ['get_autostart', {}],
      ['set_autostart', { on: false }],
      ['open_link', { url: 'https://a.example/' }],
      ['painted', { stage: 'shell' }],
      ['take_pending_focus', {}],
    ]);
  });

  it('rejects with the shell’s CommandError, and wraps anything else', async () => {
    mockIPC((cmd) => {
      if (cmd === 'add_feed') throw { code: 'feed_exists', message: 'a feed named `a` exists' };
      throw 'plain failure';
    });
    const backend = new TauriBackend();
    await expect(backend.addFeed({ url: 'x', name: null, headers: [] })).rejects.toEqual({
      code: 'feed_exists',
      message: 'a feed named `a` exists',
    });
    await expect(backend.listFeeds()).rejects.toEqual({
      code: 'internal',
      message: 'plain failure',
    });
  });

  it('delivers `changes` and `focus-event` until unsubscribed', async () => {
    mockIPC(() => null, { shouldMockEvents: true });
    expect(insideTauri()).toBe(true);
    const backend = new TauriBackend();
    const batches: Change[][] = [];
    const seqs: number[] = [];
    const stop = backend.onChanges((c) => batches.push(c));
    backend.onFocusEvent((s) => seqs.push(s));
    await new Promise((r) => setTimeout(r, 0)); // listen() resolves
    await emit('changes', [{ change: 'feeds_changed' }]);
    await emit('focus-event', 42);
    stop();
    await emit('changes', [{ change: 'events_read' }]);
    expect(batches).toEqual([[{ change: 'feeds_changed' }]]);
    expect(seqs).toEqual([42]);
  });
});
