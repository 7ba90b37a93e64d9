// A streaming reader of one JSON object whose `entries` array may be larger than memory: the other
// members come whole, each element of `entries` comes on its own, so that an import holds one element
// (plus one chunk of input) at a time, however large the document.

/** One member of the top-level object, or one element of its `entries` array, in document order. */
export type DocumentPart =
  | { kind: 'member'; key: string; value: unknown }
  | { kind: 'entriesStart'; count?: number | undefined }
  | { kind: 'entry'; index: number; value: unknown }
  | { kind: 'entriesEnd'; count: number };

/** The text is not JSON (or not one object); the message says where, as JSON.parse would. */
export class JsonSyntaxError extends Error {
  override name = 'JsonSyntaxError';
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);
// Where the scan of a value stops next: inside a string, in an object or array, after a scalar.
const IN_STRING = /["\\]/g;
const STRUCTURE = /["{}[\]]/g;
const SCALAR_END = /[,}\]\s]/g;

/**
 * Reads the parts of a JSON object from text chunks (strings or UTF-8 bytes). Each member's value and
 * each entry is checked and parsed by JSON.parse, so the grammar is JSON's own; this reader only finds
 * where each value ends (strings, escapes and nesting), resuming across chunks without rescanning.
 */
export async function* documentParts(
  chunks: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>,
): AsyncGenerator<DocumentPart> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const source = (async function* () {
    for await (const chunk of chunks as AsyncIterable<string | Uint8Array>) {
      const text = typeof chunk === 'string' ? chunk : decodeChunk(decoder, chunk, true);
      if (text) yield text;
    }
    const rest = decodeChunk(decoder, new Uint8Array(0), false);
    if (rest) yield rest;
  })();

  let buffer = '';
  let position = 0; // next unread character in buffer
  let consumed = 0; // characters dropped from the buffer's front, for error positions
  let ended = false;

  const more = async (): Promise<boolean> => {
    if (ended) return false;
    const next = await source.next();
    if (next.done) {
      ended = true;
      return false;
    }
    consumed += position;
    buffer = buffer.slice(position) + next.value;
    position = 0;
    return true;
  };
  const fail = (message: string): never => {
    throw new JsonSyntaxError(`${message} at position ${consumed + position}`);
  };
  /** The next non-blank character (not consumed), or undefined at the end of the input. */
  const peek = async (): Promise<string | undefined> => {
    for (;;) {
      while (position < buffer.length && WHITESPACE.has(buffer[position]!)) position++;
      if (position < buffer.length) return buffer[position];
      if (!(await more())) return undefined;
    }
  };
  const expect = async (char: string, what: string): Promise<void> => {
    if ((await peek()) !== char) fail(`expected ${what}`);
    position++;
  };
  /**
   * Reads one whole JSON value from the current position and parses it. `position` stays at the
   * value's start while it is scanned, so reading more input keeps the value's text in the buffer.
   */
  const value = async (): Promise<unknown> => {
    const first = await peek();
    if (first === undefined) fail('unexpected end of JSON input');
    const scalar = first !== '{' && first !== '[' && first !== '"';
    let at = position;
    let depth = 0;
    let inString = false;
    let escaped = false;
    for (;;) {
      let complete = false;
      while (at < buffer.length) {
        if (escaped) {
          escaped = false;
          at++;
          continue;
        }
        const pattern = inString ? IN_STRING : scalar ? SCALAR_END : STRUCTURE;
        pattern.lastIndex = at;
        const found = pattern.exec(buffer);
        if (!found) {
          at = buffer.length;
          break;
        }
        at = found.index;
        const c = buffer[at]!;
        if (scalar) {
          complete = true;
          break;
        }
        at++;
        if (inString) {
          if (c === '\\') escaped = true;
          else {
            inString = false;
            if (depth === 0) {
              complete = true;
              break;
            }
          }
        } else if (c === '"') inString = true;
        else if (c === '{' || c === '[') depth++;
        else {
          depth--;
          if (depth === 0) {
            complete = true;
            break;
          }
        }
      }
      if (complete) break;
      const offset = at - position;
      if (!(await more())) {
        if (scalar && offset > 0) break;
        fail('unexpected end of JSON input');
      }
      at = position + offset;
    }
    const text = buffer.slice(position, at);
    position = at;
    return parse(text);
  };
  const parse = (text: string): unknown => {
    try {
      return JSON.parse(text);
    } catch (error) {
      const message = (error as Error).message.replace(/ in JSON at position \d+.*$/s, '');
      return fail(message);
    }
  };

  await expect('{', 'a JSON object');
  const keys = new Set<string>();
  if ((await peek()) === '}') position++;
  else {
    for (;;) {
      if ((await peek()) !== '"') fail('expected a property name');
      const key = (await value()) as string;
      if (keys.has(key)) fail(`duplicate property "${key}"`);
      keys.add(key);
      await expect(':', "':' after a property name");
      if (key === 'entries' && (await peek()) === '[') {
        position++;
        yield { kind: 'entriesStart' };
        let index = 0;
        if ((await peek()) === ']') position++;
        else {
          for (;;) {
            yield { kind: 'entry', index, value: await value() };
            index++;
            const next = await peek();
            position++;
            if (next === ']') break;
            if (next !== ',') fail("expected ',' or ']' after an array element");
          }
        }
        yield { kind: 'entriesEnd', count: index };
      } else {
        yield { kind: 'member', key, value: await value() };
      }
      const next = await peek();
      position++;
      if (next === '}') break;
      if (next !== ',') fail("expected ',' or '}' after a property value");
    }
  }
  if ((await peek()) !== undefined) fail('unexpected text after the JSON object');
}

function decodeChunk(decoder: InstanceType<typeof TextDecoder>, bytes: Uint8Array, stream: boolean): string {
  try {
    return decoder.decode(bytes, { stream });
  } catch {
    throw new JsonSyntaxError('the text is not valid UTF-8');
  }
}
