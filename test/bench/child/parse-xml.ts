/**
 * Child process: streams an nmap XML file through a parser and reports its speed and its peak
 * RSS; alone in its process, so the peak is the parser's. Parsers:
 *   ours  src/nmap/xml-stream.ts, the worker's: cut at each host, map it to a HostResult
 *   sax   a bare sax callback parser that only counts elements: the speed limit for XML in JS
 */
import { createReadStream, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createNmapXmlParser } from '../../../src/nmap/xml-stream.ts';
import { childConfig, toParent } from '../lib/child.ts';

interface SaxParser {
  onopentag: (tag: unknown) => void;
  onerror: (err: Error) => void;
  write(chunk: string): SaxParser;
  close(): SaxParser;
}
const sax = createRequire(import.meta.url)('sax') as { parser(strict: boolean): SaxParser };

const c = childConfig<{ path: string; parser: 'ours' | 'sax' }>();
const started = performance.now();
let count = 0;
const write = (() => {
  if (c.parser === 'sax') {
    const p = sax.parser(true);
    p.onopentag = () => void (count += 1);
    p.onerror = (err) => {
      throw err;
    };
    return { write: (chunk: string) => void p.write(chunk), end: () => void p.close() };
  }
  const p = createNmapXmlParser({
    onMeta: () => undefined,
    onHost: () => void (count += 1),
    onStats: () => undefined,
  });
  return { write: (chunk: string) => p.write(chunk), end: () => p.end() };
})();
for await (const chunk of createReadStream(c.path, {
  encoding: 'utf8',
  highWaterMark: 64 * 1024,
})) {
  write.write(chunk as string);
}
write.end();
await toParent({
  type: 'parsed',
  ms: performance.now() - started,
  bytes: statSync(c.path).size,
  count,
  maxRssKB: process.resourceUsage().maxRSS,
});
process.exit(0);
