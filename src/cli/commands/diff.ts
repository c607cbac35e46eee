import { readFile } from 'node:fs/promises';
import { Command, CommanderError } from 'commander';
import { loadConfig } from '../../config/load.ts';
import { masterSpec } from '../../config/roles.ts';
import { compareScans, renderScanDelta, scanDeltaJson, summarize } from '../../delta/index.ts';
import type { ParsedScan } from '../../delta/index.ts';
import { MASTER_PATHS } from '../../deploy/master-plan.ts';
import { ScanmeshError } from '../../errors.ts';
import { diffTarget, parseSince, storeSummary } from '../../master/deltas/query.ts';
import { renderStoreDelta, storeDeltaJson } from '../../master/deltas/query-report.ts';
import { diffStore } from '../../master/deltas/query-store.ts';
import { parseNmapXml } from '../../nmap/xml-stream.ts';

/**
 * `scanmesh diff [HOST|JOB]`: what changed, read from the master's state dir (no InfluxDB, no
 * broker; read-only, so it runs beside a live master). `scanmesh diff --xml OLD.xml NEW.xml`: two
 * nmap XML files compared with the same rules (an ndiff that knows which ports each scan probed).
 * Exit status as diff(1): 0 no changes, 1 changes (a baseline counts: something is new), 2
 * trouble, with the error code on stderr.
 */

const EXIT_HELP = `
HOST is an address as nmap reports it; JOB a job id (j-…), a split line's id (all its blocks) or
a recurring line's id (its latest run). Without either: every host the master has scanned.
A job shows the changes the master recorded (--scripts does not apply); hosts are compared again.
Exit status: 0 when nothing changed, 1 when something did, 2 on error.
Ports are compared only where both scans probed them (their <scaninfo> ranges and listed ports);
changes that rest on silence or on a cut-short scan are marked [noisy].`;

/** The master's own key, so `diff` finds the store where a master started here keeps it. */
const STATE_DIR_SPEC = masterSpec.filter((k) => k.key === 'stateDir');

const DEFAULT_HINT =
  `that is the master's default: give --state-dir (or SCANMESH_STATE_DIR), ` +
  `e.g. ${MASTER_PATHS.stateDir} for an installed master`;

interface DiffOptions {
  xml?: boolean;
  json?: boolean;
  scripts?: boolean;
  since?: string;
  stateDir?: string;
}

export function diffCommand(): Command {
  const cmd = new Command('diff')
    .description('show what changed between scans, like ndiff, over the ports both probed')
    .argument('[target...]', 'HOST or JOB (none: every host); with --xml: OLD.xml NEW.xml')
    .option(
      '--since <duration>',
      'compare hosts with their latest result this long ago: 30m, 24h, 7d',
    )
    .option(stateDirFlag(), stateDirHelp())
    .option('--xml', 'compare two nmap XML files (-oX output) instead of the store')
    .option('--json', 'print JSON instead of the ndiff-like report')
    .option('--scripts', 'compare script output too (off by default: scripts are noisy)')
    .addHelpText('after', EXIT_HELP)
    // Commander exits 1 on usage errors, which would read as "changes found" here.
    .exitOverride((err) => {
      throw err.exitCode === 0 ? err : new CommanderError(2, err.code, err.message);
    });
  return cmd.action(async (args: string[], opts: DiffOptions) => {
    const changed = opts.xml ? await diffFiles(args, opts) : await diffFromStore(args, opts);
    // exitCode, not exit(): stdout may still be draining into a pipe.
    process.exitCode = changed ? 1 : 0;
  });
}

async function diffFromStore(args: string[], opts: DiffOptions): Promise<boolean> {
  if (args.length > 1) {
    throw badArgs(`takes one HOST or JOB (got ${args.length}); to compare two files use --xml`);
  }
  const target = diffTarget(args[0]);
  if (target.kind === 'job' && opts.since !== undefined) {
    throw badArgs('--since compares hosts; a job is shown against the scans it was compared with');
  }
  const cutoff = opts.since === undefined ? null : Date.now() - parseSince(opts.since);
  const { dir, byDefault } = stateDir(opts);
  const delta = await diffStore(dir, {
    target,
    cutoff,
    options: { scripts: opts.scripts === true },
    ...(byDefault ? { hint: DEFAULT_HINT } : {}),
  });
  process.stdout.write(
    opts.json ? `${JSON.stringify(storeDeltaJson(delta), null, 2)}\n` : renderStoreDelta(delta),
  );
  return storeSummary(delta).changes > 0;
}

/** --state-dir, else SCANMESH_STATE_DIR, else the master's default, exactly as the master reads it. */
function stateDir(opts: DiffOptions): { dir: string; byDefault: boolean } {
  const { config, sources } = loadConfig<{ stateDir?: string }>(STATE_DIR_SPEC, {
    flags: { stateDir: opts.stateDir },
    env: process.env,
  });
  if (config.stateDir === undefined) throw badArgs('--state-dir is required');
  return { dir: config.stateDir, byDefault: sources.stateDir === 'default' };
}

function stateDirFlag(): string {
  return STATE_DIR_SPEC[0]?.flag ?? '--state-dir <dir>';
}

function stateDirHelp(): string {
  const k = STATE_DIR_SPEC[0];
  const dflt = k?.default === undefined ? '' : ` (default: ${JSON.stringify(k.default)})`;
  return `the master's state dir, read-only [${k?.env ?? 'SCANMESH_STATE_DIR'}]${dflt}`;
}

async function diffFiles(files: string[], opts: DiffOptions): Promise<boolean> {
  if (opts.since !== undefined || opts.stateDir !== undefined) {
    throw badArgs('--since and --state-dir read the master store; --xml compares two files');
  }
  const [oldPath, newPath, ...rest] = files;
  if (oldPath === undefined || newPath === undefined || rest.length > 0) {
    throw badArgs(`--xml takes exactly two files, OLD.xml NEW.xml (got ${files.length})`);
  }
  const [old, next] = await Promise.all([readScan(oldPath), readScan(newPath)]);
  const delta = compareScans(old, next, { scripts: opts.scripts === true });
  process.stdout.write(
    opts.json ? `${JSON.stringify(scanDeltaJson(delta), null, 2)}\n` : renderScanDelta(delta),
  );
  return summarize(delta).changes > 0;
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
