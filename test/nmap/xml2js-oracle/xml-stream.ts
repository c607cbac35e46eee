import { StringDecoder } from 'node:string_decoder';
import { ScanmeshError } from '../../../src/errors.ts';
import type {
  NmapXmlHandlers,
  NmapXmlLimits,
  NmapXmlParser,
} from '../../../src/nmap/xml-stream.ts';
import { badStream, nextPiece } from '../../../src/nmap/xml-split.ts';
import type { Piece } from '../../../src/nmap/xml-split.ts';
import { mapHost, mapMeta, mapRunStats } from './xml-map.ts';
import { parseElement } from './xml-node.ts';
import type { XmlNode } from './xml-node.ts';

const DEFAULT_MAX_HOST_BYTES = 8 * 1024 * 1024;

type Phase = 'prolog' | 'body' | 'done';

/**
 * The streaming parser as it was when each host went through xml2js (src/nmap/xml-stream.ts
 * before the sax readers), frozen as the reference the differential test holds the readers to.
 * Same splitter, same guards, same callbacks; only the element mapping is the old one.
 */
export function createOracleParser(
  handlers: NmapXmlHandlers,
  limits: NmapXmlLimits = {},
): NmapXmlParser {
  const maxBytes = limits.maxHostBytes ?? DEFAULT_MAX_HOST_BYTES;
  const decoder = new StringDecoder('utf8');
  let buf = '';
  let resume = 0;
  let phase: Phase = 'prolog';
  let nmaprun: XmlNode | null = null;
  const scanInfo: XmlNode[] = [];
  let metaSent = false;
  let failure: unknown = null;

  function sendMeta(): void {
    if (metaSent || nmaprun === null) return;
    metaSent = true;
    handlers.onMeta(mapMeta(nmaprun, scanInfo));
  }

  function handle(piece: Exclude<Piece, { kind: 'more' }>, xml: string): void {
    if (piece.kind === 'markup') return;
    if (phase === 'done') throw badStream('content after </nmaprun>');
    if (piece.kind === 'open') {
      if (phase !== 'prolog') throw badStream('a nested <nmaprun>');
      // The start tag alone is not a document; closing it lets xml2js read its attributes.
      const tag = parseElement(`${xml.slice(0, -1)}/>`);
      // nmap writes a bare <nmaprun> when it quits before scanning (bad arguments): no meta then.
      nmaprun = tag.$ === undefined ? null : tag;
      phase = 'body';
      return;
    }
    if (phase === 'prolog') throw badStream(`<${piece.name}> before <nmaprun>`);
    if (piece.kind === 'close') {
      if (piece.name !== 'nmaprun') throw badStream(`an unmatched </${piece.name}>`);
      sendMeta();
      phase = 'done';
      return;
    }
    if (xml.includes('<!')) throw badStream(`a markup declaration inside <${piece.name}>`);
    if (piece.name === 'scaninfo' && !metaSent) {
      scanInfo.push(parseElement(xml));
      return;
    }
    sendMeta();
    if (piece.name === 'host') handlers.onHost(mapHost(parseElement(xml)));
    else if (piece.name === 'runstats') handlers.onStats(mapRunStats(parseElement(xml)));
  }

  function drain(): void {
    let pos = 0;
    for (;;) {
      const piece = nextPiece(buf, pos, resume);
      if (piece.kind === 'more') {
        buf = buf.slice(piece.start);
        resume = piece.resume - piece.start;
        // Chars never outnumber UTF-8 bytes, so this bounds the buffer before the exact check.
        if (buf.length > maxBytes) throw tooBig(maxBytes);
        return;
      }
      const xml = buf.slice(piece.start, piece.end);
      if (Buffer.byteLength(xml) > maxBytes) throw tooBig(maxBytes);
      pos = piece.end;
      resume = 0;
      handle(piece, xml);
    }
  }

  function guarded(step: () => void): void {
    if (failure !== null) throw failure;
    try {
      step();
    } catch (err) {
      failure = err;
      throw err;
    }
  }

  return {
    write(chunk) {
      guarded(() => {
        buf += typeof chunk === 'string' ? chunk : decoder.write(chunk);
        drain();
      });
    },
    end() {
      guarded(() => {
        buf += decoder.end();
        drain();
        // A run cut short (timeout, kill) still had a complete header worth reporting.
        sendMeta();
        if (buf.trim() !== '') throw badStream(`a truncated element: "${buf.slice(0, 40)}"`);
        if (phase !== 'done') throw badStream('no </nmaprun>: the document ends early');
      });
    },
  };
}

function tooBig(maxBytes: number): ScanmeshError {
  return new ScanmeshError(
    'SCANMESH_BAD_XML',
    `an nmap XML element is larger than the ${maxBytes}-byte limit`,
  );
}
