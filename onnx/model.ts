/**
 * ONNX model loading with the official ONNX schema (`onnx-proto`, compiled for protobufjs).
 * The decoded protobuf is turned into a small plain graph: nodes with normalised attributes,
 * initialisers as integer tensors, and the declared shapes of inputs, outputs and value infos.
 */
import { readFileSync } from 'node:fs';
import onnxProto from 'onnx-proto';
import { InputError } from '../rtl-model/errors.ts';
import type { Tensor } from './tensor.ts';
import { sizeOf } from './tensor.ts';

const { onnx } = onnxProto;
type TensorProto = onnxProto.onnx.ITensorProto;
type AttributeProto = onnxProto.onnx.IAttributeProto;
type ValueInfoProto = onnxProto.onnx.IValueInfoProto;

export type Attr =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'tensor'; value: Tensor }
  | { kind: 'ints'; value: number[] }
  | { kind: 'floats'; value: number[] }
  | { kind: 'strings'; value: string[] };

export interface GraphNode {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attrs: Map<string, Attr>;
}

export interface ValueInfo {
  name: string;
  /** ONNX element type (TensorProto.DataType), 0 when not declared. */
  elemType: number;
  /** Declared dimensions; a symbolic or missing dimension is undefined. */
  shape: (number | undefined)[] | undefined;
}

export interface Graph {
  name: string;
  nodes: GraphNode[];
  initializers: Map<string, Tensor>;
  /** Graph inputs that are not initialisers (what the user feeds). */
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  valueInfo: Map<string, ValueInfo>;
  opsets: Map<string, number>;
}

/** Anything protobufjs hands out for a 64-bit integer. */
type Int64Like = number | { toNumber(): number } | string;

function int64(v: Int64Like | null | undefined): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return Number(v);
  return v.toNumber();
}

const DT = onnx.TensorProto.DataType;

/** Element type names for messages. */
export function dataTypeName(dt: number): string {
  return (DT as unknown as Record<number, string>)[dt] ?? `type ${dt}`;
}

/** Decodes a TensorProto into exact numbers; `where` names it in errors. */
export function tensorFromProto(t: TensorProto, where: string): Tensor {
  const dims = (t.dims ?? []).map((d) => int64(d as Int64Like));
  const n = sizeOf(dims);
  const dt = t.dataType ?? 0;
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : undefined;
  const out = new Float64Array(n);
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : undefined;
  const fromRaw = (bytes: number, get: (off: number) => number): void => {
    if (raw!.length !== n * bytes) {
      throw new InputError(`${where}: raw data holds ${raw!.length} bytes, expected ${n * bytes}`);
    }
    for (let i = 0; i < n; i++) out[i] = get(i * bytes);
  };
  const fromList = (list: ArrayLike<Int64Like> | null | undefined): void => {
    const l = list ?? [];
    if (l.length !== n) throw new InputError(`${where}: holds ${l.length} values, expected ${n}`);
    for (let i = 0; i < n; i++) out[i] = int64(l[i]!);
  };
  switch (dt) {
    case DT.FLOAT:
      if (view) fromRaw(4, (o) => view.getFloat32(o, true));
      else fromList(t.floatData);
      break;
    case DT.DOUBLE:
      if (view) fromRaw(8, (o) => view.getFloat64(o, true));
      else fromList(t.doubleData);
      break;
    case DT.INT8:
      if (view) fromRaw(1, (o) => view.getInt8(o));
      else fromList(t.int32Data);
      break;
    case DT.UINT8:
    case DT.BOOL:
      if (view) fromRaw(1, (o) => view.getUint8(o));
      else fromList(t.int32Data);
      break;
    case DT.INT16:
      if (view) fromRaw(2, (o) => view.getInt16(o, true));
      else fromList(t.int32Data);
      break;
    case DT.UINT16:
      if (view) fromRaw(2, (o) => view.getUint16(o, true));
      else fromList(t.int32Data);
      break;
    case DT.INT32:
      if (view) fromRaw(4, (o) => view.getInt32(o, true));
      else fromList(t.int32Data);
      break;
    case DT.UINT32:
      if (view) fromRaw(4, (o) => view.getUint32(o, true));
      else fromList(t.uint64Data as ArrayLike<Int64Like>);
      break;
    case DT.INT64:
      if (view) fromRaw(8, (o) => Number(view.getBigInt64(o, true)));
      else fromList(t.int64Data as ArrayLike<Int64Like>);
      break;
    case DT.UINT64:
      if (view) fromRaw(8, (o) => Number(view.getBigUint64(o, true)));
      else fromList(t.uint64Data as ArrayLike<Int64Like>);
      break;
    default:
      throw new InputError(
        `${where}: element type ${dataTypeName(dt)} is not supported (integer or float only)`,
      );
  }
  let signed = false;
  for (let i = 0; i < n; i++) if (out[i]! < 0) signed = true;
  return { shape: dims, data: out, signed };
}

function attrFromProto(a: AttributeProto, where: string): Attr {
  const AT = onnx.AttributeProto.AttributeType;
  let type = a.type ?? AT.UNDEFINED;
  if (type === AT.UNDEFINED) {
    // Files written without the type field: infer it from the field that is set.
    if (a.t) type = AT.TENSOR;
    else if (a.ints && a.ints.length) type = AT.INTS;
    else if (a.floats && a.floats.length) type = AT.FLOATS;
    else if (a.strings && a.strings.length) type = AT.STRINGS;
    else if (a.s && a.s.length) type = AT.STRING;
    else if (a.f !== undefined && a.f !== null && a.f !== 0) type = AT.FLOAT;
    else type = AT.INT;
  }
  const dec = new TextDecoder();
  switch (type) {
    case AT.INT:
      return { kind: 'int', value: int64(a.i as Int64Like) };
    case AT.FLOAT:
      return { kind: 'float', value: a.f ?? 0 };
    case AT.STRING:
      return { kind: 'string', value: dec.decode(a.s ?? new Uint8Array()) };
    case AT.TENSOR:
      return { kind: 'tensor', value: tensorFromProto(a.t!, `${where} attribute ${a.name}`) };
    case AT.INTS:
      return { kind: 'ints', value: (a.ints ?? []).map((v) => int64(v as Int64Like)) };
    case AT.FLOATS:
      return { kind: 'floats', value: [...(a.floats ?? [])] };
    case AT.STRINGS:
      return { kind: 'strings', value: (a.strings ?? []).map((s) => dec.decode(s)) };
    default:
      throw new InputError(`${where}: attribute ${a.name} has type ${type}, which is not supported`);
  }
}

function valueInfoFromProto(v: ValueInfoProto): ValueInfo {
  const tt = v.type?.tensorType;
  const dims = tt?.shape?.dim;
  return {
    name: v.name ?? '',
    elemType: tt?.elemType ?? 0,
    shape: dims
      ? dims.map((d) =>
          d.dimValue !== undefined && d.dimValue !== null ? int64(d.dimValue as Int64Like) : undefined,
        )
      : undefined,
  };
}

/** Parses an ONNX model from its bytes. */
export function parseModel(bytes: Uint8Array, source = 'model'): Graph {
  let m: onnxProto.onnx.ModelProto;
  try {
    m = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new InputError(`${source}: not an ONNX model (${(e as Error).message})`);
  }
  const g = m.graph;
  if (!g) throw new InputError(`${source}: the model has no graph`);
  const initializers = new Map<string, Tensor>();
  for (const t of g.initializer ?? []) {
    initializers.set(t.name ?? '', tensorFromProto(t, `${source}: initialiser ${t.name}`));
  }
  const nodes: GraphNode[] = (g.node ?? []).map((n, i) => {
    const name = n.name || `${n.opType}_${i}`;
    const attrs = new Map<string, Attr>();
    for (const a of n.attribute ?? [])
      attrs.set(a.name ?? '', attrFromProto(a, `node ${name} (${n.opType})`));
    return {
      name,
      opType: n.opType ?? '',
      domain: n.domain ?? '',
      inputs: [...(n.input ?? [])],
      outputs: [...(n.output ?? [])],
      attrs,
    };
  });
  const valueInfo = new Map<string, ValueInfo>();
  for (const v of g.valueInfo ?? []) valueInfo.set(v.name ?? '', valueInfoFromProto(v));
  const opsets = new Map<string, number>();
  for (const o of m.opsetImport ?? []) opsets.set(o.domain ?? '', int64(o.version as Int64Like));
  return {
    name: g.name ?? '',
    nodes,
    initializers,
    inputs: (g.input ?? []).filter((i) => !initializers.has(i.name ?? '')).map(valueInfoFromProto),
    outputs: (g.output ?? []).map(valueInfoFromProto),
    valueInfo,
    opsets,
  };
}

/** Reads and parses an ONNX file. */
export function loadModel(path: string): Graph {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new InputError(
      `cannot read ONNX model ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  return parseModel(bytes, path);
}
