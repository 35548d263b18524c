/**
 * `.npy` / `.npz` for graph inputs, outputs and activations, on the golden formats' npy/npz code
 * (`golden/npz.ts`): any numeric dtype is read as exact values, Fortran-ordered arrays are put
 * back in C order, and tensors are written as int64 arrays in numpy's own layout.
 */
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../golden/atomic.ts';
import { npyHeader, npzMembers, readNpyAny, zipLikeNumpy } from '../golden/npz.ts';
import { InputError } from '../rtl-model/errors.ts';
import type { Tensor } from './tensor.ts';
import { transpose } from './tensor.ts';

export interface NpyArray {
  dtype: string;
  shape: number[];
  data: Float64Array;
}

/** Parses one .npy file. */
export function parseNpy(bytes: Uint8Array, where = 'npy'): NpyArray {
  const a = readNpyAny(bytes, where);
  if (a.fortranOrder && a.shape.length > 1) {
    // stored column-major: read as the reversed shape and transpose back
    const rev = [...a.shape].reverse();
    const t = transpose(
      { shape: rev, data: a.data, signed: true },
      rev.map((_, i) => rev.length - 1 - i),
    );
    return { dtype: a.descr, shape: a.shape, data: t.data };
  }
  return { dtype: a.descr, shape: a.shape, data: a.data };
}

type Descr = '<i8' | '<i4' | '|i1' | '|u1' | '<f4';

/** Encodes a .npy file (little-endian, C order), with numpy's header. */
export function encodeNpy(shape: number[], data: ArrayLike<number>, dtype: Descr = '<i8'): Uint8Array {
  const head = npyHeader(dtype, shape);
  const bytesPer = dtype === '<i8' ? 8 : dtype === '<i4' || dtype === '<f4' ? 4 : 1;
  const out = new Uint8Array(head.length + data.length * bytesPer);
  out.set(head, 0);
  const dv = new DataView(out.buffer);
  const off = head.length;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (dtype === '<i8') dv.setBigInt64(off + i * 8, BigInt(v), true);
    else if (dtype === '<i4') dv.setInt32(off + i * 4, v, true);
    else if (dtype === '<f4') dv.setFloat32(off + i * 4, v, true);
    else if (dtype === '|i1') dv.setInt8(off + i, v);
    else dv.setUint8(off + i, v);
  }
  return out;
}

/** Parses an .npz archive into arrays keyed by name (the `.npy` suffix removed, order kept). */
export function parseNpz(bytes: Uint8Array, where = 'npz'): Map<string, NpyArray> {
  const out = new Map<string, NpyArray>();
  for (const [name, data] of npzMembers(bytes, where)) out.set(name, parseNpy(data, `${where}: ${name}.npy`));
  return out;
}

export function readNpz(path: string): Map<string, NpyArray> {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new InputError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseNpz(bytes, path);
}

/** Encodes tensors as an .npz archive of int64 arrays (exact for every integer the executor makes). */
export function encodeNpz(arrays: Map<string, Tensor>): Uint8Array {
  return zipLikeNumpy([...arrays].map(([name, t]) => [`${name}.npy`, encodeNpy(t.shape, t.data, '<i8')]));
}

export function writeNpz(path: string, arrays: Map<string, Tensor>, param = 'output'): void {
  writeFileAtomic(path, encodeNpz(arrays), param);
}
