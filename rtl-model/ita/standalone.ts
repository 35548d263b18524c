/**
 * Reader of a PyITA reference folder's standalone-testbench files: `standalone/*.txt` streams (one
 * decimal value per line) and the root constants (`RQS_*.txt`, `GELU_*.txt`,
 * `activation_requant_*.txt`). Works on an in-memory folder (path -> bytes).
 */
import { parseInts } from '../../golden/text.ts';
import { InputError } from '../errors.ts';

export type FolderFiles = Map<string, Uint8Array>;

/** Integers of one file of the folder (throws naming the file if missing). */
export function readInts(files: FolderFiles, path: string): Int32Array {
  const f = files.get(path);
  if (!f) throw new InputError(`reference folder has no ${path}`);
  return parseInts(f, path);
}

const enc = new TextEncoder();

/** Rows of a constants table (`RQS_ATTN_MUL.txt`: one row per head). */
export function readRows(files: FolderFiles, path: string): number[][] {
  const f = files.get(path);
  if (!f) throw new InputError(`reference folder has no ${path}`);
  return new TextDecoder()
    .decode(f)
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .map((l) => Array.from(parseInts(enc.encode(l), path)));
}

/** Folder dimensions from its name (`S64_E64_P64_F64_H1_...`). */
export interface FolderDims {
  S: number;
  E: number;
  P: number;
  F: number;
  H: number;
  activation: 'identity' | 'gelu' | 'relu';
}

export function dimsFromName(name: string): FolderDims {
  const m = /S(\d+)_E(\d+)_P(\d+)_F(\d+)_H(\d+)(?:_B[01])?_(identity|gelu|relu)/i.exec(name);
  if (!m) {
    throw new InputError(
      `cannot read S/E/P/F/H/activation from folder name ${name} (expected S<n>_E<n>_P<n>_F<n>_H<n>[_B<0|1>]_<identity|gelu|relu>, as PyITA names it)`,
    );
  }
  const dims: FolderDims = {
    S: +m[1]!,
    E: +m[2]!,
    P: +m[3]!,
    F: +m[4]!,
    H: +m[5]!,
    activation: m[6]!.toLowerCase() as FolderDims['activation'],
  };
  for (const k of ['S', 'E', 'P', 'F'] as const) {
    if (dims[k] < 64 || dims[k] % 64 !== 0)
      throw new InputError(`folder ${name}: ${k}=${dims[k]} must be a multiple of 64`);
  }
  if (dims.H < 1) throw new InputError(`folder ${name}: H must be at least 1`);
  return dims;
}

/** Loads a folder from disk into memory (for the CLI). */
export async function loadFolderFromDisk(dir: string): Promise<FolderFiles> {
  const { readdirSync, readFileSync, statSync } = await import('node:fs');
  const { join } = await import('node:path');
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory())
    throw new InputError(`--from: ${dir} is not a directory`);
  const out: FolderFiles = new Map();
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (name.endsWith('.txt')) out.set(name, readFileSync(p));
  }
  const sd = join(dir, 'standalone');
  if (!statSync(sd, { throwIfNoEntry: false })?.isDirectory())
    throw new InputError(`--from: ${dir} has no standalone/ folder`);
  for (const name of readdirSync(sd))
    if (name.endsWith('.txt')) out.set(`standalone/${name}`, readFileSync(join(sd, name)));
  return out;
}
