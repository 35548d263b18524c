/**
 * The checked-in reference data (`golden/data/`): each reference folder is one deflated zip, so a
 * fresh clone tests without `../shared` and the repository stays small. `scripts/import-golden.ts`
 * builds these archives from `../shared`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { unzipSync } from 'fflate';
import { repoUrl } from '../rtl-model/repo.ts';

/** Folder of the checked-in archives. */
export const GOLDEN_DATA_DIR = fileURLToPath(repoUrl('golden/data'));

/** A folder held in memory: relative path (with `/`) to file contents. */
export type FileMap = Map<string, Uint8Array>;

/** Names of the PyITA reference folders checked in under `golden/data/pyita/`. */
export const PYITA_FOLDERS = [
  'S64_E64_P64_F64_H1_identity_seed0',
  'S64_E64_P64_F64_H1_gelu_seed1',
  'S64_E64_P64_F64_H1_relu_seed2_nobias',
  'S128_E128_P64_F128_H1_identity_seed0',
  'S128_E128_P64_F256_H4_gelu_seed3',
  'S128_E64_P128_F128_H2_relu_seed4',
  'S192_E128_P64_F192_H1_identity_seed5',
] as const;

/** Reads a zip archive into a FileMap (directories omitted). */
export function readZip(path: string): FileMap {
  const entries = unzipSync(readFileSync(path));
  const out: FileMap = new Map();
  for (const [name, data] of Object.entries(entries)) {
    if (!name.endsWith('/')) out.set(name.replace(/^\.\//, ''), data);
  }
  return out;
}

/** Loads a checked-in archive, e.g. `pyita/S64_E64_P64_F64_H1_gelu_seed1` or `rtl-traces`. */
export function loadGolden(name: string): FileMap {
  const path = join(GOLDEN_DATA_DIR, `${name}.zip`);
  if (!existsSync(path)) throw new Error(`no checked-in golden archive ${name} (${path})`);
  return readZip(path);
}

/** The text of one file of a FileMap. */
export function text(files: FileMap, path: string): string {
  const f = files.get(path);
  if (!f) throw new Error(`missing file ${path}`);
  return new TextDecoder().decode(f);
}
