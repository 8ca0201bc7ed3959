/**
 * How an event's raw payload and link are shown. Nothing here produces HTML: the results are
 * strings that components render as text.
 */

/**
 * The payload for the detail pane: JSON re-indented (two spaces), anything else as it came.
 * Re-indenting works on the text rather than `JSON.stringify(JSON.parse(…))`, so numbers beyond
 * 2^53, escapes and duplicate keys are shown exactly as the server sent them.
 */
export function prettyPayload(data: string): { text: string; json: boolean } {
  const trimmed = data.trim();
  if (trimmed === '') return { text: data, json: false };
  try {
    JSON.parse(trimmed);
  } catch {
    return { text: data, json: false };
  }
  return { text: reindent(trimmed), json: true };
}

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r';
}

/** Re-indents text already known to be valid JSON. */
function reindent(text: string): string {
  const indent = (depth: number) => '\n' + '  '.repeat(depth);
  const parts: string[] = [];
  let depth = 0;
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      parts.push(text.slice(i, j + 1));
      i = j + 1;
    } else if (isSpace(c)) {
      i++;
    } else if (c === '{' || c === '[') {
      let j = i + 1;
      while (isSpace(text[j])) j++;
      const close = c === '{' ? '}' : ']';
      if (text[j] === close) {
        parts.push(c + close);
        i = j + 1;
      } else {
        depth++;
        parts.push(c + indent(depth));
        i++;
      }
    } else if (c === '}' || c === ']') {
      depth--;
      parts.push(indent(depth) + c);
      i++;
    } else if (c === ',') {
      parts.push(',' + indent(depth));
      i++;
    } else if (c === ':') {
      parts.push(': ');
      i++;
    } else {
      let j = i;
      while (j < text.length && !isSpace(text[j]) && !',:]}'.includes(text[j] as string)) j++;
      parts.push(text.slice(i, j));
      i = j;
    }
  }
  return parts.join('');
}

/** The link if the app may open it (http or https only), else null: show it as text then. */
export function openableLink(link: string | null): string | null {
  if (link === null) return null;
  try {
    const url = new URL(link.trim());
    return url.protocol === 'http:' || url.protocol === 'https:' ? link.trim() : null;
  } catch {
    return null;
  }
}
