// Parser of `kvsctl txn` scripts: one operation per line — `get K`, `put K V`, `del K` — with blank lines
// and `#` comments ignored. Arguments are separated by spaces; double quotes allow spaces and JSON-style
// escapes ("a b", "line\n", "\u00ff"). For `put`, an unquoted value is the rest of the line.

export type TxnOp = { op: 'get'; key: string; line: number } | { op: 'put'; key: string; value: string; line: number } | { op: 'del'; key: string; line: number };

export class TxnScriptError extends Error {
  override name = 'TxnScriptError';
}

/** Splits one line into the first token and the (trimmed) rest, handling a quoted first token. */
function takeToken(s: string, lineNo: number): { token: string; rest: string } {
  s = s.trimStart();
  if (s.startsWith('"')) {
    let i = 1;
    while (i < s.length) {
      if (s[i] === '\\') i += 2;
      else if (s[i] === '"') break;
      else i++;
    }
    if (i >= s.length) throw new TxnScriptError(`line ${lineNo}: unterminated quoted string`);
    const lit = s.slice(0, i + 1);
    let token: string;
    try {
      token = JSON.parse(lit) as string;
    } catch {
      throw new TxnScriptError(`line ${lineNo}: malformed quoted string ${lit}`);
    }
    const rest = s.slice(i + 1);
    if (rest.length > 0 && !/^\s/.test(rest)) throw new TxnScriptError(`line ${lineNo}: expected a space after ${lit}`);
    return { token, rest: rest.trimStart() };
  }
  const m = /^(\S*)\s*([\s\S]*)$/.exec(s)!;
  return { token: m[1]!, rest: m[2]! };
}

export function parseTxnScript(text: string): TxnOp[] {
  const ops: TxnOp[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, idx) => {
    const lineNo = idx + 1;
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const { token: verb, rest } = takeToken(line, lineNo);
    const op = verb.toLowerCase();
    if (op !== 'get' && op !== 'put' && op !== 'del' && op !== 'delete') {
      throw new TxnScriptError(`line ${lineNo}: unknown operation ${JSON.stringify(verb)} (expected get K, put K V or del K)`);
    }
    if (rest === '') throw new TxnScriptError(`line ${lineNo}: ${op} needs a key`);
    const { token: key, rest: after } = takeToken(rest, lineNo);
    if (key === '') throw new TxnScriptError(`line ${lineNo}: empty key`);
    if (op === 'put') {
      if (after === '') throw new TxnScriptError(`line ${lineNo}: put needs a value (put K V)`);
      let value: string;
      if (after.startsWith('"')) {
        const t = takeToken(after, lineNo);
        if (t.rest !== '') throw new TxnScriptError(`line ${lineNo}: unexpected text after the quoted value`);
        value = t.token;
      } else {
        value = after;
      }
      ops.push({ op: 'put', key, value, line: lineNo });
    } else {
      if (after !== '') throw new TxnScriptError(`line ${lineNo}: unexpected text after the key: ${JSON.stringify(after)}`);
      ops.push({ op: op === 'get' ? 'get' : 'del', key, line: lineNo });
    }
  });
  return ops;
}
