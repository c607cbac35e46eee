import { ScanmeshError } from '../errors.ts';

/**
 * Finds the next top-level piece of an nmap XML stream without parsing it, so that each host can
 * be read on its own and the document is never held whole.
 *
 * nmap's output is flat below `<nmaprun>`: a start tag, then self-closed or closed elements
 * (`<scaninfo/>`, `<taskprogress/>`, `<hosthint>…</hosthint>`, `<host>…</host>`, `<runstats>`),
 * then `</nmaprun>`. Only `<nmaprun>` is reported as a bare start tag; every other element is
 * reported whole, from its `<` to the end of its closing tag.
 */
export type Piece =
  /** Declarations, comments and processing instructions: nothing to map. */
  | { kind: 'markup'; start: number; end: number }
  | { kind: 'open'; name: string; start: number; end: number }
  | { kind: 'close'; name: string; start: number; end: number }
  | { kind: 'element'; name: string; start: number; end: number }
  /** The piece at `start` is not complete yet; searching may go on from `resume`. */
  | { kind: 'more'; start: number; resume: number };

const OPEN_ONLY = new Set(['nmaprun']);
const NAME_END = /[\s/>]/;

/** `resume` lets a caller that only appended text skip the part already searched. */
export function nextPiece(buf: string, from: number, resume: number): Piece {
  const start = skipSpace(buf, from);
  if (start === buf.length) return { kind: 'more', start, resume: start };
  if (buf[start] !== '<')
    throw badStream(`text outside elements: "${buf.slice(start, start + 20)}"`);
  const next = buf[start + 1];
  if (next === undefined) return { kind: 'more', start, resume: start };
  if (next === '?') return markupUntil(buf, start, '?>');
  if (next === '!') return declaration(buf, start);
  if (next === '/') {
    const end = buf.indexOf('>', start);
    if (end === -1) return { kind: 'more', start, resume: start };
    return { kind: 'close', name: buf.slice(start + 2, end).trim(), start, end: end + 1 };
  }
  return element(buf, start, resume);
}

function element(buf: string, start: number, resume: number): Piece {
  let nameEnd = start + 1;
  while (nameEnd < buf.length && !NAME_END.test(buf[nameEnd] ?? '')) nameEnd++;
  if (nameEnd === buf.length) return { kind: 'more', start, resume: start };
  const name = buf.slice(start + 1, nameEnd);
  if (name === '') throw badStream('an element without a name');
  const tagEnd = startTagEnd(buf, start);
  if (tagEnd === -1) return { kind: 'more', start, resume: start };
  if (buf[tagEnd - 2] === '/') return { kind: 'element', name, start, end: tagEnd };
  if (OPEN_ONLY.has(name)) return { kind: 'open', name, start, end: tagEnd };
  const close = closeTagEnd(buf, name, Math.max(tagEnd, resume));
  if (close.end === -1) return { kind: 'more', start, resume: close.resume };
  return { kind: 'element', name, start, end: close.end };
}

function declaration(buf: string, start: number): Piece {
  const head = buf.slice(start, start + 9);
  if (head.startsWith('<!--')) return markupUntil(buf, start, '-->');
  if (head.startsWith('<!DOCTYPE')) {
    const end = buf.indexOf('>', start);
    const subset = buf.indexOf('[', start);
    // An internal subset is where entities are declared; nmap's own doctype never has one.
    if (subset !== -1 && (end === -1 || subset < end)) {
      throw badStream('a DOCTYPE with an internal subset (entity declarations are refused)');
    }
    if (end === -1) return { kind: 'more', start, resume: start };
    return { kind: 'markup', start, end: end + 1 };
  }
  if ('<!--'.startsWith(head) || '<!DOCTYPE'.startsWith(head)) {
    return { kind: 'more', start, resume: start };
  }
  throw badStream(`a markup declaration "${head}" (entities and CDATA are refused)`);
}

function markupUntil(buf: string, start: number, terminator: string): Piece {
  const at = buf.indexOf(terminator, start + 2);
  if (at === -1) return { kind: 'more', start, resume: start };
  return { kind: 'markup', start, end: at + terminator.length };
}

/** Index just past the `>` of the start tag at `start`, or -1; a `>` inside quotes is data. */
function startTagEnd(buf: string, start: number): number {
  let quote = '';
  for (let i = start + 1; i < buf.length; i++) {
    const c = buf[i];
    if (quote !== '') {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '>') {
      return i + 1;
    }
  }
  return -1;
}

/**
 * Finds `</name>` (with optional space before `>`), not `</namefoo>`: `</host>` must not match
 * `</hostnames>`. Elements nmap writes at the top level never nest an element of their own name.
 */
function closeTagEnd(buf: string, name: string, from: number): { end: number; resume: number } {
  const open = `</${name}`;
  for (let at = buf.indexOf(open, from); at !== -1; at = buf.indexOf(open, at + 1)) {
    const after = skipSpace(buf, at + open.length);
    if (after === buf.length) return { end: -1, resume: at };
    if (buf[after] === '>') return { end: after + 1, resume: at };
  }
  return { end: -1, resume: Math.max(from, buf.length - open.length) };
}

function skipSpace(buf: string, from: number): number {
  let i = from;
  while (
    i < buf.length &&
    (buf[i] === ' ' || buf[i] === '\n' || buf[i] === '\r' || buf[i] === '\t')
  ) {
    i++;
  }
  return i;
}

export function badStream(what: string): ScanmeshError {
  return new ScanmeshError('SCANMESH_BAD_XML', `nmap XML stream has ${what}`);
}
