/**
 * NumPy `.npy` / `.npz` reading and writing for graph inputs, outputs and activations.
 * An npz is a zip of npy files (fflate does the zip); the npy header is a small Python dict
 * literal that names the dtype, the order and the shape.
 */
import { readFileSync } from 'node:fs';
import { unzipSync, zipSync } from 'fflate';
import { writeFileAtomic } from '../golden/atomic.ts';
import { InputError } from '../rtl-model/errors.ts';
import type { Tensor } from './tensor.ts';
import { sizeOf, transpose } from './tensor.ts';

export interface NpyArray {
  dtype: string;
  shape: number[];
  data: Float64Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Parses one .npy file. */
export function parseNpy(bytes: Uint8Array, where = 'npy'): NpyArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b))
    throw new InputError(`${where}: not a .npy array`);
  const major = bytes[6]!;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const hstart = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(hstart, hstart + hlen));
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*True/.test(header);
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || shapeText === undefined)
    throw new InputError(`${where}: unreadable .npy header ${header.trim()}`);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number);
  const n = sizeOf(shape);
  const little = descr[0] !== '>';
  const kind = descr.slice(1);
  const start = hstart + hlen;
  const body = new DataView(bytes.buffer, bytes.byteOffset + start, bytes.byteLength - start);
  const readers: Record<string, [number, (o: number) => number]> = {
    i1: [1, (o) => body.getInt8(o)],
    u1: [1, (o) => body.getUint8(o)],
    b1: [1, (o) => body.getUint8(o)],
    i2: [2, (o) => body.getInt16(o, little)],
    u2: [2, (o) => body.getUint16(o, little)],
    i4: [4, (o) => body.getInt32(o, little)],
    u4: [4, (o) => body.getUint32(o, little)],
    i8: [8, (o) => Number(body.getBigInt64(o, little))],
    u8: [8, (o) => Number(body.getBigUint64(o, little))],
    f4: [4, (o) => body.getFloat32(o, little)],
    f8: [8, (o) => body.getFloat64(o, little)],
  };
  const r = readers[kind];
  if (!r) throw new InputError(`${where}: dtype ${descr} is not supported (integers, float32, float64)`);
  const [bytesPer, get] = r;
  if (body.byteLength < n * bytesPer)
    throw new InputError(`${where}: truncated (${body.byteLength} bytes for ${n} x ${descr})`);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = get(i * bytesPer);
  if (fortran && shape.length > 1) {
    // stored column-major: read as the reversed shape and transpose back
    const rev = [...shape].reverse();
    const t = transpose(
      { shape: rev, data, signed: true },
      rev.map((_, i) => rev.length - 1 - i),
    );
    return { dtype: descr, shape, data: t.data };
  }
  return { dtype: descr, shape, data };
}

/** Encodes a .npy file (little-endian, C order). */
export function encodeNpy(
  shape: number[],
  data: ArrayLike<number>,
  dtype: '<i8' | '<i4' | '|i1' | '|u1' | '<f4' = '<i8',
): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${dtype}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const bytesPer = dtype === '<i8' ? 8 : dtype === '<i4' || dtype === '<f4' ? 4 : 1;
  const out = new Uint8Array(10 + header.length + data.length * bytesPer);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  const dv = new DataView(out.buffer);
  dv.setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  const off = 10 + header.length;
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
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes);
  } catch (e) {
    throw new InputError(`${where}: not an .npz archive (${(e as Error).message})`);
  }
  const out = new Map<string, NpyArray>();
  for (const [name, content] of Object.entries(entries)) {
    if (name.endsWith('/')) continue;
    const key = name.endsWith('.npy') ? name.slice(0, -4) : name;
    out.set(key, parseNpy(content, `${where}: ${name}`));
  }
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
  const files: Record<string, Uint8Array> = {};
  for (const [name, t] of arrays) files[`${name}.npy`] = encodeNpy(t.shape, t.data, '<i8');
  return zipSync(files, { level: 6 });
}

export function writeNpz(path: string, arrays: Map<string, Tensor>): void {
  writeFileAtomic(path, encodeNpz(arrays));
}
