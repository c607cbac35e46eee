/**
 * Child process: streams an nmap XML file through a parser and reports its speed and its peak
 * RSS; alone in its process, so the peak is the parser's. Parsers:
 *   ours  src/nmap/xml-stream.ts, the worker's: cut at each host, read it into a HostResult
 *   scan  ours without the reading: the same cutting (xml-split.ts) and the same tokenizer
 *         (xml-scan.ts) over every element, events counted and dropped. The speed limit for
 *         our parser, the tokenizer doing no work of its own
 *   sax   a bare sax callback parser that only counts elements, with the options the readers
 *         give sax (no line and column tracking): the tokenizer ours used before xml-scan.ts,
 *         which it still hands what xml-scan.ts does not read
 */
import { createReadStream, statSync } from 'node:fs';
import sax from 'sax';
import { ElementScanner } from '../../../src/nmap/xml-scan.ts';
import { nextPiece } from '../../../src/nmap/xml-split.ts';
import { createNmapXmlParser } from '../../../src/nmap/xml-stream.ts';
import { childConfig, toParent } from '../lib/child.ts';

type Parser = 'ours' | 'scan' | 'sax';

const c = childConfig<{ path: string; parser: Parser }>();
const started = performance.now();
let count = 0;

function bareSax() {
  const p = sax.parser(true, { position: false });
  p.onopentag = () => void (count += 1);
  p.onerror = (err) => {
    throw err;
  };
  return { write: (chunk: string) => void p.write(chunk), end: () => void p.close() };
}

/** The stream's cutting loop (xml-stream.ts drain) with a bare scan instead of the readers. */
function bareScan() {
  const scanner = new ElementScanner();
  let buf = '';
  let resume = 0;
  return {
    write(chunk: string) {
      buf += chunk;
      for (let pos = 0; ;) {
        const piece = nextPiece(buf, pos, resume);
        if (piece.kind === 'more') {
          buf = buf.slice(piece.start);
          resume = piece.resume - piece.start;
          return;
        }
        if (piece.kind === 'element') {
          // An element left to sax would make this no longer the tokenizer ours uses.
          if (!scanner.scan(buf.slice(piece.start, piece.end))) {
            throw new Error(`xml-scan.ts left a <${piece.name}> to sax`);
          }
          if (piece.name === 'host') count += 1;
        }
        pos = piece.end;
        resume = 0;
      }
    },
    end: () => undefined,
  };
}

function ours() {
  const p = createNmapXmlParser({
    onMeta: () => undefined,
    onHost: () => void (count += 1),
    onStats: () => undefined,
  });
  return { write: (chunk: string) => p.write(chunk), end: () => p.end() };
}

const parser = c.parser === 'sax' ? bareSax() : c.parser === 'scan' ? bareScan() : ours();
for await (const chunk of createReadStream(c.path, {
  encoding: 'utf8',
  highWaterMark: 64 * 1024,
})) {
  parser.write(chunk as string);
}
parser.end();
await toParent({
  type: 'parsed',
  ms: performance.now() - started,
  bytes: statSync(c.path).size,
  count,
  maxRssKB: process.resourceUsage().maxRSS,
});
process.exit(0);
