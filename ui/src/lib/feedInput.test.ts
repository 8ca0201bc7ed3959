import { describe, expect, it } from 'vitest';
import { parseHeaders, SCHEME_LABELS, schemeOf, toFeedInput } from './feedInput';

describe('feed input', () => {
  it('turns the form into a FeedInput', () => {
    expect(
      toFeedInput({
        url: '  https://ci.example.com/stream ',
        name: '  ',
        headers: 'Authorization: Bearer abc\r\n\n  X-Trace: 1  \n',
      }),
    ).toEqual({
      url: 'https://ci.example.com/stream',
      name: null,
      headers: ['Authorization: Bearer abc', 'X-Trace: 1'],
    });
    expect(parseHeaders('')).toEqual([]);
  });

  it.each([
    ['https://a.example/e', 'sse'],
    ['HTTP://a.example/e', 'sse'],
    ['wss://a.example/socket', 'websocket'],
    ['ws://a.example/socket', 'websocket'],
    ['ftp://a.example/', 'other'],
    ['example.com/events', 'none'],
  ])('%s is %s', (url, scheme) => {
    expect(schemeOf(url)).toBe(scheme);
  });

  it('accepts a WebSocket URL and labels it WebSocket', () => {
    const url = 'wss://push.example.com/socket';
    expect(toFeedInput({ url, name: '', headers: '' })).toEqual({ url, name: null, headers: [] });
    const scheme = schemeOf(url);
    expect(scheme).toBe('websocket');
    expect(scheme === 'websocket' && SCHEME_LABELS[scheme]).toBe('WebSocket');
    expect(SCHEME_LABELS.sse).toBe('SSE');
  });
});
