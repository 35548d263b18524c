import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { FileMap } from '../../golden/archive.ts';
import type { Tensor } from '../../golden/types.ts';

/** Index of the first differing element of two tensors (-1 when equal), shapes included. */
export function firstTensorDiff(a: Tensor, b: Tensor): number {
  if (a.shape.join(',') !== b.shape.join(',')) return 0;
  if (a.data.length !== b.data.length) return 0;
  for (let i = 0; i < a.data.length; i++) if (a.data[i] !== b.data[i]) return i;
  return -1;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Writes a FileMap to a folder on disk. */
export function writeFileMap(dir: string, files: FileMap): void {
  for (const [rel, data] of files) {
    const p = join(dir, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, data);
  }
}

/** A copy of a FileMap with one file replaced (or removed when `data` is undefined). */
export function withFile(files: FileMap, path: string, data?: Uint8Array | string): FileMap {
  const out: FileMap = new Map(files);
  if (data === undefined) out.delete(path);
  else out.set(path, typeof data === 'string' ? new TextEncoder().encode(data) : data);
  return out;
}
