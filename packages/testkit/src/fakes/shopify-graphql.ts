/**
 * The small part of GraphQL the fake Shopify Admin API needs: a parser for query
 * documents (operations with variables, fields with aliases, arguments and
 * selection sets; no fragments, which the clients under test do not send), and a
 * way to read argument values against the request's variables.
 */

export type Value =
  | { kind: 'variable'; name: string }
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'null' }
  | { kind: 'enum'; value: string }
  | { kind: 'list'; values: Value[] }
  | { kind: 'object'; fields: Record<string, Value> };

export interface Field {
  alias: string;
  name: string;
  args: Record<string, Value>;
  selections: Field[];
  line: number;
  column: number;
}

export interface Operation {
  type: 'query' | 'mutation';
  name: string | undefined;
  variableDefaults: Record<string, Value | undefined>;
  selections: Field[];
}

export class GraphQLSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(message);
  }
}

type Token = { kind: 'punct' | 'name' | 'int' | 'float' | 'string' | 'eof'; value: string; line: number; column: number };

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const at = () => ({ line, column: i - lineStart + 1 });
  while (i < source.length) {
    const c = source[i]!;
    if (c === '\n') {
      i += 1;
      line += 1;
      lineStart = i;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === ',' || c === '\ufeff') {
      i += 1;
      continue;
    }
    if (c === '#') {
      while (i < source.length && source[i] !== '\n') i += 1;
      continue;
    }
    const position = at();
    if (source.startsWith('...', i)) {
      tokens.push({ kind: 'punct', value: '...', ...position });
      i += 3;
      continue;
    }
    if ('{}()[]:!$=@|&'.includes(c)) {
      tokens.push({ kind: 'punct', value: c, ...position });
      i += 1;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < source.length && /[A-Za-z0-9_]/.test(source[j]!)) j += 1;
      tokens.push({ kind: 'name', value: source.slice(i, j), ...position });
      i = j;
      continue;
    }
    if (/[-0-9]/.test(c)) {
      const match = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(source.slice(i));
      if (!match) throw new GraphQLSyntaxError(`Unexpected character "${c}"`, position.line, position.column);
      tokens.push({ kind: match[2] || match[3] ? 'float' : 'int', value: match[0], ...position });
      i += match[0].length;
      continue;
    }
    if (c === '"') {
      if (source.startsWith('"""', i)) {
        const end = source.indexOf('"""', i + 3);
        if (end < 0) throw new GraphQLSyntaxError('Unterminated block string', position.line, position.column);
        tokens.push({ kind: 'string', value: source.slice(i + 3, end), ...position });
        for (let k = i; k < end; k++) if (source[k] === '\n') line += 1;
        i = end + 3;
        continue;
      }
      let j = i + 1;
      let text = '';
      while (j < source.length && source[j] !== '"') {
        if (source[j] === '\n') throw new GraphQLSyntaxError('Unterminated string', position.line, position.column);
        if (source[j] === '\\') {
          const next = source[j + 1];
          const escapes: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', '"': '"', '\\': '\\', '/': '/' };
          if (next === 'u') {
            text += String.fromCharCode(parseInt(source.slice(j + 2, j + 6), 16));
            j += 6;
          } else {
            text += escapes[next ?? ''] ?? next ?? '';
            j += 2;
          }
          continue;
        }
        text += source[j];
        j += 1;
      }
      if (j >= source.length) throw new GraphQLSyntaxError('Unterminated string', position.line, position.column);
      tokens.push({ kind: 'string', value: text, ...position });
      i = j + 1;
      continue;
    }
    throw new GraphQLSyntaxError(`Unexpected character "${c}"`, position.line, position.column);
  }
  tokens.push({ kind: 'eof', value: '', ...at() });
  return tokens;
}

/** Parses a document and picks the operation to run (by name when there are several). */
export function parseOperation(source: string, operationName?: string): Operation {
  const tokens = tokenize(source);
  let p = 0;
  const peek = () => tokens[p]!;
  const fail = (message: string, token = peek()): never => {
    throw new GraphQLSyntaxError(message, token.line, token.column);
  };
  const expect = (value: string) => {
    const token = peek();
    if (token.kind !== 'punct' || token.value !== value) fail(`Expected "${value}", found ${token.kind === 'eof' ? 'end of document' : `"${token.value}"`}`);
    p += 1;
  };
  const isPunct = (value: string) => peek().kind === 'punct' && peek().value === value;
  const name = (): string => {
    const token = peek();
    if (token.kind !== 'name') fail(`Expected a name, found ${token.kind === 'eof' ? 'end of document' : `"${token.value}"`}`);
    p += 1;
    return token.value;
  };

  const value = (constant: boolean): Value => {
    const token = peek();
    if (token.kind === 'punct' && token.value === '$') {
      if (constant) fail('Variables are not allowed here');
      p += 1;
      return { kind: 'variable', name: name() };
    }
    if (token.kind === 'int') {
      p += 1;
      return { kind: 'int', value: Number(token.value) };
    }
    if (token.kind === 'float') {
      p += 1;
      return { kind: 'float', value: Number(token.value) };
    }
    if (token.kind === 'string') {
      p += 1;
      return { kind: 'string', value: token.value };
    }
    if (token.kind === 'name') {
      p += 1;
      if (token.value === 'true' || token.value === 'false') return { kind: 'boolean', value: token.value === 'true' };
      if (token.value === 'null') return { kind: 'null' };
      return { kind: 'enum', value: token.value };
    }
    if (isPunct('[')) {
      p += 1;
      const values: Value[] = [];
      while (!isPunct(']')) values.push(value(constant));
      p += 1;
      return { kind: 'list', values };
    }
    if (isPunct('{')) {
      p += 1;
      const fields: Record<string, Value> = {};
      while (!isPunct('}')) {
        const key = name();
        expect(':');
        fields[key] = value(constant);
      }
      p += 1;
      return { kind: 'object', fields };
    }
    return fail(`Unexpected ${token.kind === 'eof' ? 'end of document' : `"${token.value}"`}`);
  };

  const skipType = () => {
    if (isPunct('[')) {
      p += 1;
      skipType();
      expect(']');
    } else {
      name();
    }
    if (isPunct('!')) p += 1;
  };

  const skipDirectives = () => {
    while (isPunct('@')) {
      p += 1;
      name();
      if (isPunct('(')) {
        p += 1;
        while (!isPunct(')')) {
          name();
          expect(':');
          value(false);
        }
        p += 1;
      }
    }
  };

  const selectionSet = (): Field[] => {
    expect('{');
    const fields: Field[] = [];
    while (!isPunct('}')) {
      if (isPunct('...')) fail('Fragments are not supported by this fake');
      const start = peek();
      const alias = name();
      let fieldName = alias;
      if (isPunct(':')) {
        p += 1;
        fieldName = name();
      }
      const args: Record<string, Value> = {};
      if (isPunct('(')) {
        p += 1;
        while (!isPunct(')')) {
          const argName = name();
          expect(':');
          args[argName] = value(false);
        }
        p += 1;
      }
      skipDirectives();
      const selections = isPunct('{') ? selectionSet() : [];
      fields.push({ alias, name: fieldName, args, selections, line: start.line, column: start.column });
    }
    p += 1;
    return fields;
  };

  const operations: Operation[] = [];
  while (peek().kind !== 'eof') {
    if (isPunct('{')) {
      operations.push({ type: 'query', name: undefined, variableDefaults: {}, selections: selectionSet() });
      continue;
    }
    const keyword = name();
    if (keyword === 'fragment') fail('Fragments are not supported by this fake');
    if (keyword !== 'query' && keyword !== 'mutation') return fail(`Unexpected "${keyword}"`);
    const opName = peek().kind === 'name' ? name() : undefined;
    const variableDefaults: Record<string, Value | undefined> = {};
    if (isPunct('(')) {
      p += 1;
      while (!isPunct(')')) {
        expect('$');
        const variable = name();
        expect(':');
        skipType();
        let fallback: Value | undefined;
        if (isPunct('=')) {
          p += 1;
          fallback = value(true);
        }
        variableDefaults[variable] = fallback;
      }
      p += 1;
    }
    skipDirectives();
    operations.push({ type: keyword, name: opName, variableDefaults, selections: selectionSet() });
  }
  if (operations.length === 0) fail('The document contains no operation');
  if (operationName !== undefined) {
    const found = operations.find((o) => o.name === operationName);
    if (!found) fail(`No operation named "${operationName}"`);
    return found!;
  }
  if (operations.length > 1) fail('The document has several operations: name the one to run (operationName)');
  return operations[0]!;
}

/** An argument's value as plain data, variables read from the request. */
export function valueOf(value: Value | undefined, variables: Record<string, unknown>, defaults: Record<string, Value | undefined>): unknown {
  if (value === undefined) return undefined;
  switch (value.kind) {
    case 'variable':
      if (value.name in variables) return variables[value.name];
      return valueOf(defaults[value.name], variables, defaults);
    case 'int':
    case 'float':
    case 'string':
    case 'boolean':
    case 'enum':
      return value.value;
    case 'null':
      return null;
    case 'list':
      return value.values.map((v) => valueOf(v, variables, defaults));
    case 'object':
      return Object.fromEntries(Object.entries(value.fields).map(([k, v]) => [k, valueOf(v, variables, defaults)]));
  }
}
