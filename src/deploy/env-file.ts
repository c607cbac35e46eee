import { ScanmeshError } from '../errors.ts';

/**
 * One `NAME=value` line for a systemd EnvironmentFile=. Single quotes keep every character
 * verbatim (systemd.exec(5)); a value holding a single quote is double-quoted instead, with
 * `\`, `"`, `` ` `` and `$` escaped. Line breaks are refused: a password never holds one, and a
 * stray one from `echo pw > file` is trimmed by the caller.
 */
export function envLine(name: string, value: string): string {
  if (!/^[A-Z_][A-Z0-9_]*$/.test(name)) {
    throw new ScanmeshError('SCANMESH_BAD_CONFIG', `"${name}" is not an environment variable name`);
  }
  if (/[\r\n\0]/.test(value)) {
    throw new ScanmeshError('SCANMESH_BAD_CONFIG', `${name}: the value holds a line break`);
  }
  if (!value.includes("'")) return `${name}='${value}'`;
  return `${name}="${value.replace(/[\\"`$]/g, (c) => `\\${c}`)}"`;
}

/** A secret read from a file: its first line, without the newline editors and echo add. */
export function secretFromFile(text: string, what: string): string {
  const value = text.replace(/\r?\n$/, '');
  if (value === '') throw new ScanmeshError('SCANMESH_BAD_CONFIG', `${what} is empty`);
  if (/[\r\n]/.test(value)) {
    throw new ScanmeshError('SCANMESH_BAD_CONFIG', `${what} holds more than one line`);
  }
  return value;
}
