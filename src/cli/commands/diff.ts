import { readFile } from 'node:fs/promises';
import { Command, CommanderError } from 'commander';
import { compareScans, renderScanDelta, scanDeltaJson, summarize } from '../../delta/index.ts';
import type { ParsedScan } from '../../delta/index.ts';
import { ScanmeshError } from '../../errors.ts';
import { parseNmapXml } from '../../nmap/xml-stream.ts';

/**
 * `scanmesh diff --xml OLD.xml NEW.xml`: two nmap XML files compared with the delta rules (an
 * ndiff that knows which ports each scan probed). Exit status as diff(1): 0 no changes, 1 changes
 * (a baseline counts: the files differ), 2 trouble, with the error code on stderr.
 */

const EXIT_HELP = `
Exit status: 0 when nothing changed, 1 when something did, 2 on error.
Ports are compared only where both scans probed them (their <scaninfo> ranges and listed ports);
changes that rest on silence or on a cut-short scan are marked [noisy].`;

interface DiffOptions {
  xml?: boolean;
  json?: boolean;
  scripts?: boolean;
}

export function diffCommand(): Command {
  const cmd = new Command('diff')
    .description('show what changed between two scans, like ndiff, over the ports both probed')
    .argument('[files...]', 'with --xml: OLD.xml NEW.xml')
    .option('--xml', 'compare two nmap XML files (-oX output)')
    .option('--json', 'print JSON instead of the ndiff-like report')
    .option('--scripts', 'compare script output too (off by default: scripts are noisy)')
    .addHelpText('after', EXIT_HELP)
    // Commander exits 1 on usage errors, which would read as "changes found" here.
    .exitOverride((err) => {
      throw err.exitCode === 0 ? err : new CommanderError(2, err.code, err.message);
    });
  return cmd.action(async (files: string[], opts: DiffOptions) => {
    if (!opts.xml) {
      throw badArgs('comparing results from the master store is not available yet; use --xml');
    }
    const [oldPath, newPath, ...rest] = files;
    if (oldPath === undefined || newPath === undefined || rest.length > 0) {
      throw badArgs(`--xml takes exactly two files, OLD.xml NEW.xml (got ${files.length})`);
    }
    const [old, next] = await Promise.all([readScan(oldPath), readScan(newPath)]);
    const delta = compareScans(old, next, { scripts: opts.scripts === true });
    const out = opts.json
      ? `${JSON.stringify(scanDeltaJson(delta), null, 2)}\n`
      : renderScanDelta(delta);
    process.stdout.write(out);
    // exitCode, not exit(): stdout may still be draining into a pipe.
    process.exitCode = summarize(delta).changes > 0 ? 1 : 0;
  });
}

function badArgs(message: string): ScanmeshError {
  return new ScanmeshError('SCANMESH_BAD_CONFIG', `scanmesh diff: ${message}`);
}

async function readScan(path: string): Promise<ParsedScan> {
  let xml: string;
  try {
    xml = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown error';
    throw badArgs(`cannot read ${path} (${code})`);
  }
  try {
    return { ...parseNmapXml(xml), job: path };
  } catch (err) {
    if (err instanceof ScanmeshError) {
      throw new ScanmeshError(err.code, `${path}: ${err.message}`, { cause: err });
    }
    throw err;
  }
}
