/**
 * What an op handler sees: its node, its input tensors, typed attribute readers and `refuse()`,
 * which ends the run with one line naming the node, the op and what is missing.
 */
import { InputError } from '../../rtl-model/errors.ts';
import type { Attr, GraphNode } from '../model.ts';
import type { Tensor } from '../tensor.ts';
import { shapeStr } from '../tensor.ts';

/**
 * Which ITA softmax the ITA softmax nodes (ITAMax, ITAPartialMax, MHSA) compute: Deeploy's kernels,
 * the RTL's ITAMax, or `ita`: the fused MHSA as ITA computes it (the RTL's) and the ITAMax /
 * ITAPartialMax nodes as Deeploy's kernels (what the tiler runs on the cores).
 */
export type SoftmaxVariant = 'deeploy' | 'rtl' | 'ita';

/** A graph the executor cannot run as asked: an unknown op, attribute or attribute value. */
export class UnsupportedError extends InputError {
  constructor(
    readonly node: string,
    readonly op: string,
    readonly what: string,
  ) {
    super(`node ${node} (${op}): ${what}`);
    this.name = 'UnsupportedError';
  }
}

export interface OpOptions {
  softmax: SoftmaxVariant;
}

export class OpContext {
  constructor(
    readonly node: GraphNode,
    readonly inputs: (Tensor | undefined)[],
    readonly options: OpOptions,
  ) {}

  refuse(what: string): never {
    throw new UnsupportedError(this.node.name, this.node.opType, what);
  }

  /** Input i, which must be present. */
  input(i: number, role = `input ${i}`): Tensor {
    const t = this.inputs[i];
    if (!t) this.refuse(`missing ${role}`);
    return t;
  }

  optionalInput(i: number): Tensor | undefined {
    return this.inputs[i];
  }

  /** Input i read as a list of integers (shape tensors, axes, indices). */
  inputInts(i: number, role: string): number[] {
    return Array.from(this.input(i, role).data);
  }

  /** Input i as one integer (a scalar or a one-element tensor). */
  inputScalar(i: number, role: string): number {
    const t = this.input(i, role);
    if (t.data.length !== 1) this.refuse(`${role} must hold one value, got shape ${shapeStr(t.shape)}`);
    return t.data[0]!;
  }

  has(name: string): boolean {
    return this.node.attrs.has(name);
  }

  private attr(name: string): Attr | undefined {
    return this.node.attrs.get(name);
  }

  /**
   * An integer attribute. QuantLib stores many of these as one-element tensors or as floats;
   * all three forms are accepted as long as the value is an integer.
   */
  int(name: string, dflt?: number): number {
    const a = this.attr(name);
    if (!a) {
      if (dflt === undefined) this.refuse(`missing attribute ${name}`);
      return dflt;
    }
    let v: number | undefined;
    if (a.kind === 'int' || a.kind === 'float') v = a.value;
    else if (a.kind === 'tensor' && a.value.data.length === 1) v = a.value.data[0];
    else if ((a.kind === 'ints' || a.kind === 'floats') && a.value.length === 1) v = a.value[0];
    if (v === undefined || !Number.isInteger(v)) this.refuse(`attribute ${name} must be one integer`);
    return v;
  }

  /** A list of integers (ints attribute or tensor attribute). */
  ints(name: string, dflt?: number[]): number[] {
    const a = this.attr(name);
    if (!a) {
      if (dflt === undefined) this.refuse(`missing attribute ${name}`);
      return dflt;
    }
    let v: number[] | undefined;
    if (a.kind === 'ints' || a.kind === 'floats') v = a.value;
    else if (a.kind === 'tensor') v = Array.from(a.value.data);
    else if (a.kind === 'int' || a.kind === 'float') v = [a.value];
    if (!v || !v.every(Number.isInteger)) this.refuse(`attribute ${name} must be a list of integers`);
    return v;
  }

  string(name: string, dflt: string): string {
    const a = this.attr(name);
    if (!a) return dflt;
    if (a.kind !== 'string') this.refuse(`attribute ${name} must be a string`);
    return a.value;
  }

  tensorAttr(name: string): Tensor {
    const a = this.attr(name);
    if (!a || a.kind !== 'tensor') this.refuse(`missing tensor attribute ${name}`);
    return a.value;
  }

  /** log2 of a power-of-two attribute (RequantShift's `div`, iLayerNorm's `D`, ...). */
  log2(name: string): number {
    const d = this.int(name);
    const s = Math.log2(d);
    if (d < 1 || !Number.isInteger(s) || s > 31)
      this.refuse(`attribute ${name} must be a power of two from 1 to 2^31, got ${d}`);
    return s;
  }

  /** Normalises a possibly negative axis for a tensor of the given rank. */
  axis(a: number, rank: number, name = 'axis'): number {
    const r = a < 0 ? a + rank : a;
    if (r < 0 || r >= rank) this.refuse(`${name} ${a} is outside a rank-${rank} tensor`);
    return r;
  }
}

/** One op: the attributes it understands and how it computes. */
export interface OpDef {
  attrs: readonly string[];
  run(ctx: OpContext): Tensor[];
}
