import { StringDecoder } from 'node:string_decoder';
import { ScanmeshError } from '../errors.ts';
import type { HostResult, RunStats, ScanMeta } from './result.ts';
import { readHost } from './xml-host.ts';
import { createElementReader } from './xml-read.ts';
import { mapMeta, readRootAttributes, readRunStats } from './xml-run.ts';
import { badStream, nextPiece } from './xml-split.ts';
import type { Piece } from './xml-split.ts';
import type { Attributes } from './xml-values.ts';

export interface NmapXmlHandlers {
  /**
   * Once, before the first host, at `<runstats>` or at `end()`, whichever comes first; not at all
   * for the bare `<nmaprun>` nmap writes when it refuses its arguments.
   */
  onMeta(meta: ScanMeta): void;
  /** Per `<host>`, as soon as its closing tag has arrived. */
  onHost(host: HostResult): void;
  onStats(stats: RunStats): void;
}

export interface NmapXmlLimits {
  /**
   * Bytes one top-level element may take: a `<host>`, or anything else nmap writes between hosts.
   * A bigger one is refused rather than buffered. Default 8 MiB.
   */
  maxHostBytes?: number;
}

export interface NmapXmlParser {
  write(chunk: Buffer | string): void;
  /** Throws SCANMESH_BAD_XML when the document stops before `</nmaprun>` (after reporting meta). */
  end(): void;
}

const DEFAULT_MAX_HOST_BYTES = 8 * 1024 * 1024;

type Phase = 'prolog' | 'body' | 'done';

/**
 * How the stream reads each complete element it cut out. The driver below (splitting, guards,
 * phases, when meta is sent) is the same whatever reads the elements: here our readers
 * (xml-read.ts), in the differential test the retired xml2js mapping it holds them to.
 */
export interface NmapElementReaders<Root, Info> {
  /** The `<nmaprun .../>` start tag's attributes; null for the bare tag of a refused run. */
  root(xml: string): Root | null;
  scanInfo(xml: string): Info;
  meta(root: Root, scanInfo: Info[]): ScanMeta;
  host(xml: string): HostResult;
  runStats(xml: string): RunStats;
}

function elementReaders(): NmapElementReaders<Attributes, Attributes> {
  const read = createElementReader();
  return {
    root(xml) {
      const tag = readRootAttributes(read, xml);
      return tag.length === 0 ? null : tag;
    },
    scanInfo: (xml) => readRootAttributes(read, xml),
    meta: mapMeta,
    host: (xml) => readHost(read, xml),
    runStats: (xml) => readRunStats(read, xml),
  };
}

/**
 * Streams nmap's `-oX` output: each host is parsed and reported on its own, and only the element
 * being received is buffered. Every failure is a ScanmeshError SCANMESH_BAD_XML; after one, the
 * parser stays failed and rethrows it.
 */
export function createNmapXmlParser(
  handlers: NmapXmlHandlers,
  limits: NmapXmlLimits = {},
): NmapXmlParser {
  return createNmapXmlStream(elementReaders(), handlers, limits);
}

/** The stream with the given element readers (see NmapElementReaders). */
export function createNmapXmlStream<Root, Info>(
  read: NmapElementReaders<Root, Info>,
  handlers: NmapXmlHandlers,
  limits: NmapXmlLimits = {},
): NmapXmlParser {
  const maxBytes = limits.maxHostBytes ?? DEFAULT_MAX_HOST_BYTES;
  const decoder = new StringDecoder('utf8');
  let buf = '';
  let resume = 0;
  let phase: Phase = 'prolog';
  let nmaprun: Root | null = null;
  const scanInfo: Info[] = [];
  let metaSent = false;
  let failure: unknown = null;

  function sendMeta(): void {
    if (metaSent || nmaprun === null) return;
    metaSent = true;
    handlers.onMeta(read.meta(nmaprun, scanInfo));
  }

  function handle(piece: Exclude<Piece, { kind: 'more' }>, xml: string): void {
    if (piece.kind === 'markup') return;
    if (phase === 'done') throw badStream('content after </nmaprun>');
    if (piece.kind === 'open') {
      if (phase !== 'prolog') throw badStream('a nested <nmaprun>');
      // The start tag alone is not a document; closing it lets a reader read its attributes.
      // nmap writes a bare <nmaprun> when it quits before scanning (bad arguments): no meta then.
      nmaprun = read.root(`${xml.slice(0, -1)}/>`);
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
      scanInfo.push(read.scanInfo(xml));
      return;
    }
    sendMeta();
    if (piece.name === 'host') handlers.onHost(read.host(xml));
    else if (piece.name === 'runstats') handlers.onStats(read.runStats(xml));
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

/** Parses a whole document (e.g. a saved `-oX` file) with the streaming parser. */
export function parseNmapXml(xml: string): {
  meta: ScanMeta | null;
  hosts: HostResult[];
  stats: RunStats | null;
} {
  let meta: ScanMeta | null = null;
  let stats: RunStats | null = null;
  const hosts: HostResult[] = [];
  const parser = createNmapXmlParser({
    onMeta: (m) => (meta = m),
    onHost: (h) => hosts.push(h),
    onStats: (s) => (stats = s),
  });
  parser.write(xml);
  parser.end();
  return { meta, hosts, stats };
}

function tooBig(maxBytes: number): ScanmeshError {
  return new ScanmeshError(
    'SCANMESH_BAD_XML',
    `an nmap XML element is larger than the ${maxBytes}-byte limit`,
  );
}
