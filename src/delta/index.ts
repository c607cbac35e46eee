/**
 * The delta engine's public face (pure, no I/O): what the master and `scanmesh diff` use.
 * The rules live in the modules named below; start reading at compare.ts.
 */
export type { Change, ChangeKind, CompareOptions, HostDelta, ScanSide } from './changes.ts';
export { compareAbsentHost, compareHost, type RunSide } from './compare.ts';
export { scanCovers } from './coverage.ts';
export { absentHost, seenState, type SeenState } from './host-state.ts';
export {
  NOISY_MARK,
  renderHostDelta,
  renderScanDelta,
  scanDeltaJson,
  summarize,
  type DeltaSummary,
} from './report.ts';
export { compareScans, type ParsedScan, type ScanDelta, type ScanHeader } from './scans.ts';
