/**
 * Where a JSON text stops being JSON. V8's JSON.parse says why it failed but, for many errors, not where; a rollout
 * file posted from CI deserves "line 12, column 5". This scanner runs only after JSON.parse has failed. It keeps its
 * own stack of open containers, so a body of a million `[` cannot overflow the call stack.
 */

export interface JsonSyntaxError {
  offset: number;
  message: string;
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const LITERALS = ['true', 'false', 'null'];

export function findJsonError(text: string): JsonSyntaxError | undefined {
  let i = 0;
  // What the scanner expects next, given the containers open around it.
  type Frame = { kind: 'object' | 'array'; state: 'start' | 'key' | 'colon' | 'value' | 'comma' };
  const stack: Frame[] = [];
  const skip = () => {
    while (i < text.length && WHITESPACE.has(text[i]!)) i++;
  };
  const fail = (message: string): JsonSyntaxError => ({ offset: Math.min(i, text.length), message });
  const describe = () => (i >= text.length ? 'the end of the input' : `${JSON.stringify(text[i])}`);

  const readString = (): JsonSyntaxError | undefined => {
    i++; // the opening quote
    while (i < text.length) {
      const c = text[i]!;
      if (c === '"') {
        i++;
        return undefined;
      }
      if (c === '\\') {
        const next = text[i + 1];
        if (next === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return fail('a \\u escape needs four hex digits');
          i += 6;
          continue;
        }
        if (next === undefined || !'"\\/bfnrt'.includes(next)) return fail('an unknown escape in a string');
        i += 2;
        continue;
      }
      if (c < ' ') return fail('a control character inside a string; escape it');
      i++;
    }
    return fail('a string that never ends');
  };

  // Reads one scalar, or opens a container; returns an error or undefined.
  const readValue = (): JsonSyntaxError | undefined => {
    skip();
    const c = text[i];
    if (c === '{') {
      i++;
      stack.push({ kind: 'object', state: 'start' });
      return undefined;
    }
    if (c === '[') {
      i++;
      stack.push({ kind: 'array', state: 'start' });
      return undefined;
    }
    if (c === '"') return readString();
    NUMBER.lastIndex = i;
    const number = NUMBER.exec(text);
    if (number && number[0] !== '-') {
      i += number[0].length;
      return undefined;
    }
    for (const literal of LITERALS) {
      if (text.startsWith(literal, i)) {
        i += literal.length;
        return undefined;
      }
    }
    return fail(`expected a value, found ${describe()}`);
  };

  let error = readValue();
  while (!error && stack.length > 0) {
    const frame = stack.at(-1)!;
    skip();
    const c = text[i];
    if (frame.kind === 'array') {
      if (frame.state === 'start' && c === ']') {
        i++;
        stack.pop();
      } else if (frame.state === 'start' || frame.state === 'value') {
        frame.state = 'comma';
        error = readValue();
      } else if (c === ',') {
        i++;
        skip();
        if (text[i] === ']') error = fail('a trailing comma before ]');
        frame.state = 'value';
      } else if (c === ']') {
        i++;
        stack.pop();
      } else error = fail(`expected , or ] in an array, found ${describe()}`);
    } else if (frame.state === 'start' || frame.state === 'key') {
      if (frame.state === 'start' && c === '}') {
        i++;
        stack.pop();
      } else if (c === '"') {
        error = readString();
        frame.state = 'colon';
      } else error = fail(`expected a double-quoted property name, found ${describe()}`);
    } else if (frame.state === 'colon') {
      if (c === ':') {
        i++;
        frame.state = 'comma';
        error = readValue();
      } else error = fail(`expected : after a property name, found ${describe()}`);
    } else if (c === ',') {
      i++;
      skip();
      if (text[i] === '}') error = fail('a trailing comma before }');
      frame.state = 'key';
    } else if (c === '}') {
      i++;
      stack.pop();
    } else error = fail(`expected , or } in an object, found ${describe()}`);
  }
  if (error) return error;
  skip();
  return i < text.length ? fail(`unexpected ${describe()} after the end of the document`) : undefined;
}
