import type { Attributes } from './xml-values.ts';

/**
 * A scanner for the plain XML nmap writes, for complete elements held in one string: tags with
 * ASCII names, quoted attributes, text, and the five XML entities and character references.
 * It reports the events sax (strict, no trimming, no namespaces) reports for the same element,
 * several times as fast, because it slices names, values and text out of the string instead of
 * building them a character at a time. (An attribute list may name an attribute twice where sax's
 * object keeps only the first; readers take the first, see `attr`.)
 *
 * It reads less than sax does on purpose: on anything outside that subset (another entity,
 * space around `=` or after `<`, a processing instruction, non-ASCII names, a malformation of any
 * kind) it gives up and the caller hands the element to sax, which then accepts or refuses it
 * as it always did. So it never decides whether XML is well-formed; it only takes the plain
 * cases off sax's hands. xml-scan.test.ts holds the two side by side on mutated elements.
 */

/** Event kinds in `ElementScanner.events`. */
export const OPEN = 0;
export const CLOSE = 1;
export const TEXT = 2;

/** What an element without attributes has: one list for all of them. */
const NO_ATTRIBUTES: Attributes = Object.freeze([]);
/** Entries a list keeps room for after an element; a huge element's lists are let go. */
const KEEP_ENTRIES = 64 * 1024;

const LT = 0x3c;
const GT = 0x3e;
const SLASH = 0x2f;
const EQUALS = 0x3d;
const DQUOTE = 0x22;
const SQUOTE = 0x27;

/** sax's name characters, ASCII only: start `[:_A-Za-z]`, body also `[.\d-]`. */
const NAME_START = new Uint8Array(128);
const NAME_BODY = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  NAME_START[c] = /[:_A-Za-z]/.test(ch) ? 1 : 0;
  NAME_BODY[c] = /[:_A-Za-z.\d-]/.test(ch) ? 1 : 0;
}

/** sax's white space: no other character separates attributes. */
function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function isNameStart(c: number): boolean {
  return c < 128 && NAME_START[c] === 1;
}

/** Index of the first character at or after `from` that cannot continue a name. */
function nameEnd(xml: string, from: number): number {
  let i = from;
  for (let c = xml.charCodeAt(i); c < 128 && NAME_BODY[c] === 1; c = xml.charCodeAt(++i));
  return i;
}

/**
 * Scans elements one at a time, keeping its lists from element to element, so that scanning a
 * host allocates little besides what the host's result keeps.
 */
export class ElementScanner {
  /**
   * The last element's events, flat, in its first `length` entries: `OPEN, name, attributes`,
   * `CLOSE`, `TEXT, text`.
   */
  readonly events: (number | string | Attributes)[] = [];
  length = 0;
  /** Names of the open elements, innermost last. */
  private readonly stack: string[] = [];
  /** The attributes of the start tag being read, in its first `attributeCount` entries. */
  private readonly attributes: string[] = [];
  private attributeCount = 0;

  /**
   * Scans one complete element into `events`. False when the element is not one this scanner
   * reads; `events` then holds nothing to use.
   */
  scan(xml: string): boolean {
    this.length = 0;
    // Emptied only after an element given up on: lists keep their room from element to element.
    if (this.stack.length !== 0) this.stack.length = 0;
    return this.scanFrom(xml);
  }

  /** Forgets the last element's events, so that they keep no strings alive. */
  clear(): void {
    if (this.events.length > KEEP_ENTRIES) this.events.length = 0;
    else this.events.fill(CLOSE, 0, this.length);
    if (this.attributes.length > KEEP_ENTRIES) this.attributes.length = 0;
    else this.attributes.fill('');
    this.length = 0;
  }

  private add(entry: number | string | Attributes): void {
    this.events[this.length++] = entry;
  }

  private scanFrom(xml: string): boolean {
    const n = xml.length;
    const stack = this.stack;
    const attributes = this.attributes;
    /** The first `&` at or after where the scan is, or n: searched again only once passed. */
    let amp = -1;
    let i = 0;
    for (;;) {
      if (xml.charCodeAt(i) !== LT) return false;
      let c = xml.charCodeAt(i + 1);
      if (c === SLASH) {
        const name = stack.pop();
        if (name === undefined || !xml.startsWith(name, i + 2)) return false;
        i += 2 + name.length;
        if (xml.charCodeAt(i) !== GT) return false;
        i += 1;
        this.add(CLOSE);
        if (stack.length === 0) return i === n;
      } else {
        if (!isNameStart(c)) return false;
        let at = nameEnd(xml, i + 2);
        const name = xml.slice(i + 1, at);
        this.attributeCount = 0;
        let selfClosing = false;
        for (;;) {
          c = xml.charCodeAt(at);
          if (c === GT) {
            at += 1;
            break;
          }
          if (c === SLASH) {
            if (xml.charCodeAt(at + 1) !== GT) return false;
            selfClosing = true;
            at += 2;
            break;
          }
          if (!isSpace(c)) return false;
          do c = xml.charCodeAt(++at);
          while (isSpace(c));
          if (c === GT || c === SLASH) continue;
          if (!isNameStart(c)) return false;
          const keyEnd = nameEnd(xml, at + 1);
          const quote = xml.charCodeAt(keyEnd + 1);
          if (xml.charCodeAt(keyEnd) !== EQUALS || (quote !== DQUOTE && quote !== SQUOTE)) {
            return false;
          }
          const key = xml.slice(at, keyEnd);
          const start = keyEnd + 2;
          const end = xml.indexOf(quote === DQUOTE ? '"' : "'", start);
          if (end === -1) return false;
          if (amp < start) amp = indexOrEnd(xml, '&', start);
          const value = amp < end ? decode(xml, start, end) : xml.slice(start, end);
          // sax keeps attributes in an object: one named `__proto__` is lost there, and one
          // named `hasOwnProperty` breaks sax's check for the next one.
          if (value === null || key === '__proto__' || key === 'hasOwnProperty') return false;
          attributes[this.attributeCount++] = key;
          attributes[this.attributeCount++] = value;
          at = end + 1;
        }
        this.add(OPEN);
        this.add(name);
        // A copy of just the right size: the list is kept by whoever reads it.
        const count = this.attributeCount;
        this.add(count === 0 ? NO_ATTRIBUTES : attributes.slice(0, count));
        i = at;
        if (selfClosing) {
          this.add(CLOSE);
          if (stack.length === 0) return i === n;
        } else {
          stack.push(name);
        }
      }
      const lt = xml.indexOf('<', i);
      if (lt === -1) return false;
      if (lt > i) {
        if (amp < i) amp = indexOrEnd(xml, '&', i);
        const text = amp < lt ? decode(xml, i, lt) : xml.slice(i, lt);
        if (text === null) return false;
        this.add(TEXT);
        this.add(text);
        i = lt;
      }
    }
  }
}

function indexOrEnd(xml: string, search: string, from: number): number {
  const at = xml.indexOf(search, from);
  return at === -1 ? xml.length : at;
}

/** `xml[start, end)` with its entities decoded as sax decodes them; null for any other entity. */
function decode(xml: string, start: number, end: number): string | null {
  let out = '';
  let from = start;
  for (;;) {
    const amp = xml.indexOf('&', from);
    if (amp === -1 || amp >= end) return out + xml.slice(from, end);
    const semi = xml.indexOf(';', amp + 1);
    if (semi === -1 || semi >= end) return null;
    const value = entity(xml.slice(amp + 1, semi));
    if (value === null) return null;
    out += xml.slice(from, amp) + value;
    from = semi + 1;
  }
}

const DECIMAL = /^#[0-9]+$/;
const HEX = /^#x[0-9a-fA-F]+$/;

/**
 * What sax makes of `&name;`: the five XML entities, and character references it accepts
 * (the number written without a sign or junk, naming an XML character). null for everything
 * else, including HTML's entities, which sax also knows: those are left to sax.
 */
function entity(name: string): string | null {
  switch (name) {
    case 'amp':
      return '&';
    case 'lt':
      return '<';
    case 'gt':
      return '>';
    case 'quot':
      return '"';
    case 'apos':
      return "'";
  }
  const radix = DECIMAL.test(name) ? 10 : HEX.test(name) ? 16 : 0;
  if (radix === 0) return null;
  const digits = name.slice(radix === 10 ? 1 : 2);
  const code = parseInt(digits, radix);
  if (code.toString(radix) !== digits.toLowerCase().replace(/^0+/, '')) return null;
  return isXmlChar(code) ? String.fromCodePoint(code) : null;
}

/** The XML `Char` production, as sax checks a character reference against it. */
function isXmlChar(code: number): boolean {
  return (
    code === 0x9 ||
    code === 0xa ||
    code === 0xd ||
    (code >= 0x20 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd) ||
    (code >= 0x10000 && code <= 0x10ffff)
  );
}
