import {
  createNmapXmlStream,
  type NmapXmlHandlers,
  type NmapXmlLimits,
  type NmapXmlParser,
} from '../../../src/nmap/xml-stream.ts';
import { mapHost, mapMeta, mapRunStats } from './xml-map.ts';
import { parseElement } from './xml-node.ts';

/**
 * The streaming parser with the element mapping it had when each host went through xml2js
 * (src/nmap/xml-stream.ts before the sax readers), frozen as the reference the differential test
 * holds the readers to. The splitter, guards and callbacks are the stream's own, shared.
 */
export function createOracleParser(
  handlers: NmapXmlHandlers,
  limits: NmapXmlLimits = {},
): NmapXmlParser {
  return createNmapXmlStream(
    {
      root(xml) {
        const tag = parseElement(xml);
        return tag.$ === undefined ? null : tag;
      },
      scanInfo: parseElement,
      meta: mapMeta,
      host: (xml) => mapHost(parseElement(xml)),
      runStats: (xml) => mapRunStats(parseElement(xml)),
    },
    handlers,
    limits,
  );
}
