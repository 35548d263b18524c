/**
 * `.npy` / `.npz` files as numpy writes them (`np.savez`: an uncompressed zip of `.npy` members).
 * Members are written byte for byte like numpy's format 1.0 (same header text and padding), and
 * the archive like Python's `zipfile` lays it out, so a recomputed `mha.npz` is byte-identical to
 * PyITA's. Reading uses fflate; `compare` compares npz files by their arrays, so archives from
 * other zip writers compare equal when their arrays are.
 */
import { createRequire } from 'node:module';
import { crc32 } from 'node:zlib';
import { InputError } from '../rtl-model/errors.ts';

// The readers' libraries load on first use: writing a folder (`itasim golden`) needs neither, and
// loading them costs a noticeable part of a short run.
const requireHere = createRequire(import.meta.url);
let fflate: typeof import('fflate') | undefined;
let npyjs: typeof import('npyjs') | undefined;
const unzipSync = (b: Uint8Array) =>
  (fflate ??= requireHere('fflate') as typeof import('fflate')).unzipSync(b);
const parse = (b: ArrayBuffer) => (npyjs ??= requireHere('npyjs') as typeof import('npyjs')).parse(b);

export type NpyDtype = 'int8' | 'uint8' | 'int32';

export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  /** Values, row-major. */
  data: Int32Array;
}

const DESCR: Record<NpyDtype, string> = { int8: '|i1', uint8: '|u1', int32: '<i4' };
const BYTES: Record<NpyDtype, number> = { int8: 1, uint8: 1, int32: 4 };

/**
 * numpy's header for type code `descr` (`|i1`, `<i4`, ...): the dict, room for the first axis to
 * grow to 21 digits, padded to 64 bytes.
 */
export function npyHeader(descr: string, shape: number[]): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  dict += ' '.repeat(shape.length > 0 ? 21 - String(shape[0]).length : 0);
  const hlen = dict.length + 1;
  const pad = 64 - ((10 + hlen) % 64);
  const text = dict + ' '.repeat(pad === 64 ? 0 : pad) + '\n';
  const out = new Uint8Array(10 + text.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  out[8] = text.length & 0xff;
  out[9] = text.length >> 8;
  out.set(new TextEncoder().encode(text), 10);
  return out;
}

/** The bytes of one `.npy` file. */
export function writeNpy(a: NpyArray): Uint8Array {
  const head = npyHeader(DESCR[a.dtype], a.shape);
  const n = a.shape.reduce((x, y) => x * y, 1);
  if (a.data.length !== n) throw new RangeError(`npy: ${a.data.length} values for shape ${a.shape}`);
  const out = new Uint8Array(head.length + n * BYTES[a.dtype]);
  out.set(head, 0);
  const body = out.subarray(head.length);
  if (a.dtype === 'int32') new Int32Array(body.buffer, body.byteOffset, n).set(a.data);
  // (storing into a Uint8Array keeps the low byte of each value, as & 0xff does)
  else body.set(a.data.subarray(0, n));
  return out;
}

/** Any numeric `.npy` array: numpy's type code (`i1`, `<i8`, `<f4`, ...), shape, order and values. */
export interface NpyAnyArray {
  descr: string;
  shape: number[];
  fortranOrder: boolean;
  /** Values in file order, exact for integers up to 2^53. */
  data: Float64Array;
}

/** Parses one `.npy` file of any numeric dtype (npyjs reads it); `file` names it in errors. */
export function readNpyAny(bytes: Uint8Array, file: string): NpyAnyArray {
  let parsed;
  try {
    parsed = parse(bytes.slice().buffer);
  } catch (e) {
    throw new InputError(`${file}: not a valid .npy array (${(e as Error).message})`);
  }
  const src = parsed.data as unknown;
  if (!ArrayBuffer.isView(src)) throw new InputError(`${file}: dtype ${parsed.dtype} is not numeric`);
  const n = parsed.shape.reduce((x: number, y: number) => x * y, 1);
  const values = src as unknown as ArrayLike<number | bigint>;
  if (values.length < n)
    throw new InputError(`${file}: truncated (${values.length} values for shape (${parsed.shape}))`);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = Number(values[i]!);
  return { descr: parsed.dtype, shape: [...parsed.shape], fortranOrder: parsed.fortranOrder, data };
}

/** Parses one `.npy` file (int8, uint8 or int32, C order); `file` names it in errors. */
export function readNpy(bytes: Uint8Array, file: string): NpyArray {
  const a = readNpyAny(bytes, file);
  const dtype = ({ i1: 'int8', u1: 'uint8', i4: 'int32' } as Record<string, NpyDtype>)[a.descr];
  if (!dtype) throw new InputError(`${file}: dtype ${a.descr} is not int8, uint8 or int32`);
  if (a.fortranOrder) throw new InputError(`${file}: Fortran order is not supported`);
  return { dtype, shape: a.shape, data: Int32Array.from(a.data) };
}

/**
 * Builds an `.npz` archive from named arrays (member `<name>.npy`, in the given order), laid out
 * byte for byte as Python's `zipfile` writes it for `np.savez`: stored members dated 1980-01-01,
 * each local header with a zip64 extra field (numpy opens members with force_zip64), permissions
 * 0600, no zip64 end record (archives stay far below 4 GiB).
 */
export function writeNpz(arrays: [string, NpyArray][]): Uint8Array {
  return zipLikeNumpy(arrays.map(([name, a]) => [`${name}.npy`, writeNpy(a)]));
}

/** Stored zip of `[file name, bytes]` members in the layout Python's zipfile gives np.savez. */
export function zipLikeNumpy(files: [string, Uint8Array][]): Uint8Array {
  const enc = new TextEncoder();
  const members = files.map(([name, data]) => ({ name: enc.encode(name), data }));
  const localSize = members.reduce((n, m) => n + 30 + m.name.length + 20 + m.data.length, 0);
  const centralSize = members.reduce((n, m) => n + 46 + m.name.length, 0);
  const out = new Uint8Array(localSize + centralSize + 22);
  const dv = new DataView(out.buffer);
  const DOS_DATE_1980 = 0x21; // 1980-01-01, time 00:00:00
  let pos = 0;
  const offsets: number[] = [];
  const crcs: number[] = [];
  for (const m of members) {
    const crc = crc32(m.data);
    offsets.push(pos);
    crcs.push(crc);
    dv.setUint32(pos, 0x04034b50, true);
    dv.setUint16(pos + 4, 45, true); // version needed: zip64
    dv.setUint16(pos + 6, 0, true); // flags
    dv.setUint16(pos + 8, 0, true); // stored
    dv.setUint16(pos + 10, 0, true); // time
    dv.setUint16(pos + 12, DOS_DATE_1980, true);
    dv.setUint32(pos + 14, crc, true);
    dv.setUint32(pos + 18, 0xffffffff, true); // sizes in the zip64 extra field
    dv.setUint32(pos + 22, 0xffffffff, true);
    dv.setUint16(pos + 26, m.name.length, true);
    dv.setUint16(pos + 28, 20, true);
    out.set(m.name, pos + 30);
    pos += 30 + m.name.length;
    dv.setUint16(pos, 1, true); // zip64 extra: id 1, 16 bytes, uncompressed and compressed size
    dv.setUint16(pos + 2, 16, true);
    dv.setBigUint64(pos + 4, BigInt(m.data.length), true);
    dv.setBigUint64(pos + 12, BigInt(m.data.length), true);
    pos += 20;
    out.set(m.data, pos);
    pos += m.data.length;
  }
  const centralStart = pos;
  members.forEach((m, i) => {
    dv.setUint32(pos, 0x02014b50, true);
    dv.setUint16(pos + 4, 0x032d, true); // made by: Unix, version 4.5
    dv.setUint16(pos + 6, 45, true);
    dv.setUint16(pos + 8, 0, true);
    dv.setUint16(pos + 10, 0, true);
    dv.setUint16(pos + 12, 0, true);
    dv.setUint16(pos + 14, DOS_DATE_1980, true);
    dv.setUint32(pos + 16, crcs[i]!, true);
    dv.setUint32(pos + 20, m.data.length, true);
    dv.setUint32(pos + 24, m.data.length, true);
    dv.setUint16(pos + 28, m.name.length, true);
    dv.setUint16(pos + 30, 0, true); // extra
    dv.setUint16(pos + 32, 0, true); // comment
    dv.setUint16(pos + 34, 0, true); // disk
    dv.setUint16(pos + 36, 0, true); // internal attributes
    dv.setUint32(pos + 38, 0o600 << 16, true); // external attributes: -rw-------
    dv.setUint32(pos + 42, offsets[i]!, true);
    out.set(m.name, pos + 46);
    pos += 46 + m.name.length;
  });
  dv.setUint32(pos, 0x06054b50, true);
  dv.setUint16(pos + 8, members.length, true);
  dv.setUint16(pos + 10, members.length, true);
  dv.setUint32(pos + 12, pos - centralStart, true);
  dv.setUint32(pos + 16, centralStart, true);
  return out;
}

/** The `.npy` members of an `.npz` archive, keyed by name without `.npy`, in archive order. */
export function npzMembers(bytes: Uint8Array, file: string): Map<string, Uint8Array> {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes);
  } catch (e) {
    throw new InputError(`${file}: not a valid zip archive (${(e as Error).message})`);
  }
  const crcs = centralCrcs(bytes);
  const out = new Map<string, Uint8Array>();
  for (const [name, data] of Object.entries(entries)) {
    const want = crcs.get(name);
    if (want !== undefined && crc32(data) !== want)
      throw new InputError(
        `${file}: member ${name}: CRC-32 ${hex32(crc32(data))} of its data, expected ${hex32(want)} (a damaged file?)`,
      );
    if (name.endsWith('.npy')) out.set(name.slice(0, -4), data);
  }
  return out;
}

function hex32(v: number): string {
  return (v >>> 0).toString(16).padStart(8, '0');
}

/**
 * The CRC-32 of each member as the archive's central directory records it (the unzipping itself
 * does not check them). Empty when the directory cannot be read this simply (ZIP64).
 */
function centralCrcs(bytes: Uint8Array): Map<string, number> {
  const out = new Map<string, number>();
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let end = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 65535); i--)
    if (dv.getUint32(i, true) === 0x06054b50) {
      end = i;
      break;
    }
  if (end < 0) return out;
  const count = dv.getUint16(end + 10, true);
  let pos = dv.getUint32(end + 16, true);
  const names = new TextDecoder();
  for (let k = 0; k < count; k++) {
    if (pos + 46 > bytes.length || dv.getUint32(pos, true) !== 0x02014b50) return new Map();
    const nameLen = dv.getUint16(pos + 28, true);
    const extraLen = dv.getUint16(pos + 30, true);
    const commentLen = dv.getUint16(pos + 32, true);
    out.set(names.decode(bytes.subarray(pos + 46, pos + 46 + nameLen)), dv.getUint32(pos + 16, true));
    pos += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

/** Reads every array of an `.npz` archive, keyed by name without `.npy`. */
export function readNpz(bytes: Uint8Array, file: string): Map<string, NpyArray> {
  const out = new Map<string, NpyArray>();
  for (const [name, data] of npzMembers(bytes, file)) out.set(name, readNpy(data, `${file}:${name}.npy`));
  return out;
}
