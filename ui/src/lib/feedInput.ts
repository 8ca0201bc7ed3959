/**
 * From what the user typed in the feed form to the contract's `FeedInput`, and the messages the form
 * shows about it. Validation itself is the core's: it answers with a `CommandError`, shown as it is.
 */
import type { FeedInput } from '$lib/bindings';

/** What the form holds: raw text. */
export interface FeedDraft {
  url: string;
  name: string;
  headers: string;
}

export function toFeedInput(draft: FeedDraft): FeedInput {
  const name = draft.name.trim();
  return {
    url: draft.url.trim(),
    name: name === '' ? null : name,
    headers: parseHeaders(draft.headers),
  };
}

/** One `Name: value` per line; blank lines are ignored. */
export function parseHeaders(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

/** What kind of feed a URL is, from its scheme, as the form shows it while the user types. */
export type Scheme = 'sse' | 'websocket' | 'other' | 'none';

export function schemeOf(url: string): Scheme {
  const match = /^\s*([a-z][a-z0-9+.-]*):/i.exec(url);
  if (!match) return 'none';
  const scheme = (match[1] as string).toLowerCase();
  if (scheme === 'http' || scheme === 'https') return 'sse';
  if (scheme === 'ws' || scheme === 'wss') return 'websocket';
  return 'other';
}

/** The label the form shows for a scheme it can follow. */
export const SCHEME_LABELS = { sse: 'SSE', websocket: 'WebSocket' } as const;

/** The hint under the edit form's headers: credentials come back hidden. */
export const SECRET_HINT = '<secret> keeps the saved value';
