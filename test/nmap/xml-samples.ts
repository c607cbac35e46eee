/**
 * The small nmap documents the stream parser's own tests are written with, shared so that the
 * differential test runs the old and the new element readers over exactly these inputs too.
 */
export const HEAD = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE nmaprun>
<?xml-stylesheet href="file:///usr/bin/../share/nmap/nmap.xsl" type="text/xsl"?>
<!-- Nmap 7.93 scan initiated as: nmap -sT 127.0.0.1 -->
<nmaprun scanner="nmap" args="nmap -sT -p 80 127.0.0.1" start="1700000000" version="7.93" xmloutputversion="1.05">
<scaninfo type="connect" protocol="tcp" numservices="1" services="80"/>
<verbose level="0"/>
`;

export const TAIL = `<runstats><finished time="1700000002" elapsed="2.00" summary="done" exit="success"/><hosts up="1" down="0" total="1"/>
</runstats>
</nmaprun>
`;

/** What nmap -v writes between hosts and the stream parser must skip. */
export const NOISE = `<taskbegin task="Connect Scan" time="1700000000"/>
<taskprogress task="Connect Scan" time="1700000001" percent="50.00" remaining="1" etc="1700000002"/>
<output type="interactive">Warning: &lt;host&gt; in text is only text</output>
<hosthint><status state="up" reason="arp-response" reason_ttl="0"/>
<address addr="127.0.0.9" addrtype="ipv4"/>
<hostnames>
</hostnames>
</hosthint>
<taskend task="Connect Scan" time="1700000002" extrainfo="1 total ports"/>
`;

export function host(addr: string, inner = ''): string {
  return `<host starttime="1700000000" endtime="1700000001"><status state="up" reason="syn-ack" reason_ttl="0"/>
<address addr="${addr}" addrtype="ipv4"/>
<hostnames>
</hostnames>
${inner}</host>
`;
}

export function portWithScript(output: string): string {
  return `<ports><port protocol="tcp" portid="80"><state state="open" reason="syn-ack" reason_ttl="0"/><script id="banner" output="${output}"/></port>
</ports>
`;
}
