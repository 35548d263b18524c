/**
 * A small ONNX writer on the official schema: builds graphs node by node (tests use it to make
 * one-op models) and encodes them with protobufjs. Integer values are stored in the element type
 * asked for; FLOAT is the default because Deeploy's integer dialect keeps integers in float32.
 */
import onnxProto from 'onnx-proto';
import type { Attr } from './model.ts';
import type { Tensor } from './tensor.ts';

const { onnx } = onnxProto;
const DT = onnx.TensorProto.DataType;
const AT = onnx.AttributeProto.AttributeType;

export type ElemType = 'float' | 'double' | 'int8' | 'uint8' | 'int16' | 'int32' | 'int64';

const ELEM: Record<ElemType, number> = {
  float: DT.FLOAT,
  double: DT.DOUBLE,
  int8: DT.INT8,
  uint8: DT.UINT8,
  int16: DT.INT16,
  int32: DT.INT32,
  int64: DT.INT64,
};

/** A constant for an initialiser or a tensor attribute. */
export interface ConstSpec {
  shape: number[];
  values: ArrayLike<number>;
  type?: ElemType;
}

export type AttrSpec = Attr | { kind: 'const'; value: ConstSpec };

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  domain?: string;
  attrs?: Record<string, AttrSpec>;
}

export interface IoSpec {
  name: string;
  shape?: number[];
  type?: ElemType;
}

export interface GraphSpec {
  name?: string;
  inputs: IoSpec[];
  outputs: IoSpec[];
  nodes: NodeSpec[];
  initializers?: Record<string, ConstSpec>;
  valueInfo?: IoSpec[];
  opset?: number;
}

/** Attribute helpers. */
export const attr = {
  int: (value: number): Attr => ({ kind: 'int', value }),
  float: (value: number): Attr => ({ kind: 'float', value }),
  ints: (value: number[]): Attr => ({ kind: 'ints', value }),
  string: (value: string): Attr => ({ kind: 'string', value }),
  /** A tensor attribute (how QuantLib stores `div`, `n_levels`, ...). */
  tensor: (values: number | number[], shape?: number[], type: ElemType = 'float'): AttrSpec => {
    const v = typeof values === 'number' ? [values] : values;
    return {
      kind: 'const',
      value: { shape: shape ?? (typeof values === 'number' ? [] : [v.length]), values: v, type },
    };
  },
};

export function constFromTensor(t: Tensor, type: ElemType = 'float'): ConstSpec {
  return { shape: t.shape, values: t.data, type };
}

function tensorProto(name: string, c: ConstSpec): onnxProto.onnx.TensorProto {
  const type = c.type ?? 'float';
  const dt = ELEM[type];
  const vals = Array.from(c.values);
  const p = onnx.TensorProto.create({ name, dims: c.shape, dataType: dt });
  switch (type) {
    case 'float':
      p.floatData = vals;
      break;
    case 'double':
      p.doubleData = vals;
      break;
    case 'int64': {
      const raw = new Uint8Array(vals.length * 8);
      const dv = new DataView(raw.buffer);
      vals.forEach((v, i) => dv.setBigInt64(i * 8, BigInt(v), true));
      p.rawData = raw;
      break;
    }
    default:
      p.int32Data = vals;
  }
  return p;
}

function attrProto(name: string, a: AttrSpec): onnxProto.onnx.AttributeProto {
  const enc = new TextEncoder();
  switch (a.kind) {
    case 'int':
      return onnx.AttributeProto.create({ name, type: AT.INT, i: a.value });
    case 'float':
      return onnx.AttributeProto.create({ name, type: AT.FLOAT, f: a.value });
    case 'string':
      return onnx.AttributeProto.create({ name, type: AT.STRING, s: enc.encode(a.value) });
    case 'ints':
      return onnx.AttributeProto.create({ name, type: AT.INTS, ints: a.value });
    case 'floats':
      return onnx.AttributeProto.create({ name, type: AT.FLOATS, floats: a.value });
    case 'strings':
      return onnx.AttributeProto.create({
        name,
        type: AT.STRINGS,
        strings: a.value.map((s) => enc.encode(s)),
      });
    case 'tensor':
      return onnx.AttributeProto.create({
        name,
        type: AT.TENSOR,
        t: tensorProto(name, constFromTensor(a.value)),
      });
    case 'const':
      return onnx.AttributeProto.create({ name, type: AT.TENSOR, t: tensorProto(name, a.value) });
  }
}

function valueInfo(io: IoSpec): onnxProto.onnx.ValueInfoProto {
  return onnx.ValueInfoProto.create({
    name: io.name,
    type: {
      tensorType: {
        elemType: ELEM[io.type ?? 'float'],
        ...(io.shape ? { shape: { dim: io.shape.map((d) => ({ dimValue: d })) } } : {}),
      },
    },
  });
}

/** Encodes a graph as ONNX model bytes. */
export function buildModel(spec: GraphSpec): Uint8Array {
  const domains = new Set(spec.nodes.map((n) => n.domain ?? '').filter((d) => d !== ''));
  const model = onnx.ModelProto.create({
    irVersion: 7,
    producerName: 'itasim',
    opsetImport: [
      { domain: '', version: spec.opset ?? 13 },
      ...[...domains].map((d) => ({ domain: d, version: 1 })),
    ],
    graph: {
      name: spec.name ?? 'graph',
      input: spec.inputs.map(valueInfo),
      output: spec.outputs.map(valueInfo),
      valueInfo: (spec.valueInfo ?? []).map(valueInfo),
      initializer: Object.entries(spec.initializers ?? {}).map(([n, c]) => tensorProto(n, c)),
      node: spec.nodes.map((n, i) =>
        onnx.NodeProto.create({
          name: n.name ?? `${n.op}_${i}`,
          opType: n.op,
          domain: n.domain ?? '',
          input: n.inputs,
          output: n.outputs,
          attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attrProto(k, v)),
        }),
      ),
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
