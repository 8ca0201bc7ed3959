/**
 * The backend inside the desktop app: each method is one `invoke` of the command with the same name
 * (arguments in camelCase, as Tauri expects), each subscription one `listen`.
 */
import { invoke } from '@tauri-apps/api/core';
import { listen, type UnlistenFn } from '@tauri-apps/api/event';
import type { Change, EventQuery, FeedInput, FeedStatus, Probe, StoredEvent } from '$lib/bindings';
import { toCommandError, type Backend, type PaintStage, type Unsubscribe } from './backend';

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (error) {
    throw toCommandError(error);
  }
}

/** `listen` resolves asynchronously; unsubscribing before it has resolved must still unlisten. */
function subscribe<T>(event: string, handler: (payload: T) => void): Unsubscribe {
  let stopped = false;
  let unlisten: UnlistenFn | undefined;
  listen<T>(event, (e) => {
    if (!stopped) handler(e.payload);
  }).then(
    (fn) => {
      if (stopped) fn();
      else unlisten = fn;
    },
    (error: unknown) => console.error(`cannot listen to ${event}:`, error),
  );
  return () => {
    stopped = true;
    unlisten?.();
  };
}

export class TauriBackend implements Backend {
  listFeeds = () => call<FeedStatus[]>('list_feeds');
  addFeed = (input: FeedInput) => call<FeedStatus>('add_feed', { input });
  editFeed = (name: string, input: FeedInput) => call<FeedStatus>('edit_feed', { name, input });
  removeFeed = (name: string) => call<null>('remove_feed', { name });
  pauseFeed = (name: string) => call<null>('pause_feed', { name });
  resumeFeed = (name: string) => call<null>('resume_feed', { name });
  testFeed = (input: FeedInput) => call<Probe>('test_feed', { input });
  addDemoFeed = () => call<FeedStatus>('add_demo_feed');
  listEvents = (query: EventQuery) => call<StoredEvent[]>('list_events', { query });
  getEvent = (seq: number) => call<StoredEvent | null>('get_event', { seq });
  markRead = (seqs: number[]) => call<number>('mark_read', { seqs });
  markAllRead = (feed: string | null) => call<number>('mark_all_read', { feed });
  getDoNotDisturb = () => call<boolean>('get_do_not_disturb');
  setDoNotDisturb = (on: boolean) => call<null>('set_do_not_disturb', { on });
  getAutostart = () => call<boolean>('get_autostart');
  setAutostart = (on: boolean) => call<null>('set_autostart', { on });
  openLink = (url: string) => call<null>('open_link', { url });
  painted = (stage: PaintStage) => call<null>('painted', { stage });
  takePendingFocus = () => call<number | null>('take_pending_focus');

  onChanges = (handler: (changes: Change[]) => void) => subscribe<Change[]>('changes', handler);
  onFocusEvent = (handler: (seq: number) => void) => subscribe<number>('focus-event', handler);
}
