/**
 * The one door from the UI to the app: every command of the IPC contract (docs/desktop-ipc.md) as a
 * typed method, and its two events as subscriptions.
 *
 * Two implementations: `tauri.ts` talks to the Rust shell through `invoke`/`listen`; `fake.ts` keeps
 * feeds and events in memory so the UI runs in a plain browser (`npm run dev`) and in component tests.
 * Every method rejects with a `CommandError` (`toCommandError` turns anything else into one).
 */
import type {
  Change,
  CommandError,
  EventQuery,
  FeedInput,
  FeedStatus,
  Probe,
  StoredEvent,
} from '$lib/bindings';

export type Unsubscribe = () => void;

/** Which first frame the UI has drawn (see `painted`). */
export type PaintStage = 'shell' | 'loaded';

export interface Backend {
  listFeeds(): Promise<FeedStatus[]>;
  addFeed(input: FeedInput): Promise<FeedStatus>;
  editFeed(name: string, input: FeedInput): Promise<FeedStatus>;
  removeFeed(name: string): Promise<null>;
  pauseFeed(name: string): Promise<null>;
  resumeFeed(name: string): Promise<null>;
  /** Connects without saving: at most 5 events within 5 s. */
  testFeed(input: FeedInput): Promise<Probe>;
  addDemoFeed(): Promise<FeedStatus>;
  /** Newest first; the next page is `before_seq` = the last seq of this one. */
  listEvents(query: EventQuery): Promise<StoredEvent[]>;
  getEvent(seq: number): Promise<StoredEvent | null>;
  /** Returns how many events changed. */
  markRead(seqs: number[]): Promise<number>;
  markAllRead(feed: string | null): Promise<number>;
  getDoNotDisturb(): Promise<boolean>;
  setDoNotDisturb(on: boolean): Promise<null>;
  getAutostart(): Promise<boolean>;
  setAutostart(on: boolean): Promise<null>;
  /** Opens an http(s) link in the OS browser; the shell refuses anything else. */
  openLink(url: string): Promise<null>;
  /** Marks a first frame on screen (`shell`: the layout; `loaded`: with the data); the shell logs it. */
  painted(stage: PaintStage): Promise<null>;

  /** `changes`: everything that happened within ~100 ms, as one batch. */
  onChanges(handler: (changes: Change[]) => void): Unsubscribe;
  /** `focus-event`: the user clicked a notification without a link; show the event with this seq. */
  onFocusEvent(handler: (seq: number) => void): Unsubscribe;
  /** The event a clicked notification asked the window to show while it was still opening (taken once). */
  takePendingFocus(): Promise<number | null>;
}

/** Whatever a command rejected with, as the contract's `{code, message}`. */
export function toCommandError(error: unknown): CommandError {
  if (isCommandError(error)) return error;
  if (typeof error === 'string') return { code: 'internal', message: error };
  if (error instanceof Error) return { code: 'internal', message: error.message };
  return { code: 'internal', message: String(error) };
}

export function isCommandError(value: unknown): value is CommandError {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as CommandError).code === 'string' &&
    typeof (value as CommandError).message === 'string'
  );
}
