/**
 * Child process: streams an nmap XML file through a parser and reports its speed and its peak
 * RSS; alone in its process, so the peak is the parser's. Parsers:
 *   ours  src/nmap/xml-stream.ts, the worker's: cut at each host, read it into a HostResult
 *         with sax callbacks
 *   sax   a bare sax callback parser that only counts elements: the speed limit for XML in JS,
 *         with the options ours gives sax (no line and column tracking), so that the limit is
 *         the same tokenizer doing no work of its own
 */
import { createReadStream, statSync } from 'node:fs';
import sax from 'sax';
import { createNmapXmlParser } from '../../../src/nmap/xml-stream.ts';
import { childConfig, toParent } from '../lib/child.ts';

const c = childConfig<{ path: string; parser: 'ours' | 'sax' }>();
const started = performance.now();
let count = 0;
const write = (() => {
  if (c.parser === 'sax') {
    const p = sax.parser(true, { position: false });
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
