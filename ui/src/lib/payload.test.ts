import { describe, expect, it } from 'vitest';
import { openableLink, prettyPayload } from './payload';

describe('prettyPayload', () => {
  it('indents JSON like JSON.stringify(…, null, 2)', () => {
    const data = '{"title":"deployed","tags":["a","b"],"n":{"x":1,"empty":{},"none":[]},"ok":true}';
    const pretty = prettyPayload(data);
    expect(pretty.json).toBe(true);
    expect(pretty.text).toBe(JSON.stringify(JSON.parse(data), null, 2));
  });

  it('keeps numbers, escapes and strings exactly as sent', () => {
    const data = '{"id": 12345678901234567890, "s": "a\\"b,c:{d}", "u": "\\u00e9"}';
    expect(prettyPayload(data).text).toBe(
      '{\n  "id": 12345678901234567890,\n  "s": "a\\"b,c:{d}",\n  "u": "\\u00e9"\n}',
    );
  });

  it('shows anything that is not JSON as it came', () => {
    for (const data of ['hello world', '{"broken": ', '<img src=x onerror=alert(1)>', '']) {
      expect(prettyPayload(data)).toEqual({ text: data, json: false });
    }
  });

  it('treats JSON scalars as JSON', () => {
    expect(prettyPayload(' 42 ')).toEqual({ text: '42', json: true });
  });
});

describe('openableLink', () => {
  it.each([
    ['https://example.com/x', 'https://example.com/x'],
    ['http://127.0.0.1:8080/', 'http://127.0.0.1:8080/'],
    ['javascript:alert(1)', null],
    ['file:///etc/passwd', null],
    ['data:text/html,<b>x</b>', null],
    ['not a url', null],
    [null, null],
  ])('%s → %s', (link, expected) => {
    expect(openableLink(link)).toBe(expected);
  });
});
