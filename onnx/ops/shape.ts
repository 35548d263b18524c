/** Data movement: ops that only reorder, select or relabel values (ONNX semantics). */
import type { Tensor } from '../tensor.ts';
import { shapeStr, sizeOf, stridesOf, transpose } from '../tensor.ts';
import type { OpContext, OpDef } from './context.ts';

function relabel(ctx: OpContext, x: Tensor, shape: number[]): Tensor {
  if (sizeOf(shape) !== x.data.length)
    ctx.refuse(`cannot reshape ${shapeStr(x.shape)} to ${shapeStr(shape)}`);
  return { shape, data: x.data, signed: x.signed };
}

const Transpose: OpDef = {
  attrs: ['perm'],
  run(ctx) {
    const x = ctx.input(0, 'data');
    const rank = x.shape.length;
    const perm = ctx.ints('perm', [...Array(rank).keys()].reverse());
    if (perm.length !== rank || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) {
      ctx.refuse(`perm [${perm.join(',')}] is not a permutation of ${rank} axes`);
    }
    return [transpose(x, perm)];
  },
};

const Reshape: OpDef = {
  attrs: ['allowzero'],
  run(ctx) {
    const x = ctx.input(0, 'data');
    const req = ctx.inputInts(1, 'shape');
    const allowZero = ctx.int('allowzero', 0) !== 0;
    const shape = req.map((d, i) => (d === 0 && !allowZero ? x.shape[i]! : d));
    const minus = shape.indexOf(-1);
    if (minus >= 0) {
      const known = shape.reduce((n, d, i) => (i === minus ? n : n * d), 1);
      shape[minus] = known === 0 ? 0 : x.data.length / known;
    }
    return [relabel(ctx, x, shape)];
  },
};

const Flatten: OpDef = {
  attrs: ['axis'],
  run(ctx) {
    const x = ctx.input(0, 'input');
    const a = ctx.axis(ctx.int('axis', 1), x.shape.length + 1);
    return [relabel(ctx, x, [sizeOf(x.shape.slice(0, a)), sizeOf(x.shape.slice(a))])];
  },
};

function axesOf(ctx: OpContext, rank: number): number[] | undefined {
  const list = ctx.optionalInput(1)
    ? ctx.inputInts(1, 'axes')
    : ctx.has('axes')
      ? ctx.ints('axes')
      : undefined;
  return list?.map((a) => ctx.axis(a, rank));
}

const Squeeze: OpDef = {
  attrs: ['axes'],
  run(ctx) {
    const x = ctx.input(0, 'data');
    const axes = axesOf(ctx, x.shape.length) ?? x.shape.flatMap((d, i) => (d === 1 ? [i] : []));
    for (const a of axes) if (x.shape[a] !== 1) ctx.refuse(`axis ${a} of ${shapeStr(x.shape)} is not 1`);
    return [
      relabel(
        ctx,
        x,
        x.shape.filter((_, i) => !axes.includes(i)),
      ),
    ];
  },
};

const Unsqueeze: OpDef = {
  attrs: ['axes'],
  run(ctx) {
    const x = ctx.input(0, 'data');
    const n = x.shape.length + (ctx.optionalInput(1) ? ctx.input(1).data.length : ctx.ints('axes').length);
    const axes = axesOf(ctx, n) ?? [];
    const shape: number[] = [];
    let j = 0;
    for (let i = 0; i < n; i++) shape.push(axes.includes(i) ? 1 : x.shape[j++]!);
    return [relabel(ctx, x, shape)];
  },
};

const Gather: OpDef = {
  attrs: ['axis'],
  run(ctx) {
    const x = ctx.input(0, 'data');
    const idx = ctx.input(1, 'indices');
    const axis = ctx.axis(ctx.int('axis', 0), x.shape.length);
    const dim = x.shape[axis]!;
    const outer = sizeOf(x.shape.slice(0, axis));
    const inner = sizeOf(x.shape.slice(axis + 1));
    const out = new Float64Array(outer * idx.data.length * inner);
    for (let o = 0; o < outer; o++) {
      for (let k = 0; k < idx.data.length; k++) {
        let i = idx.data[k]!;
        if (i < 0) i += dim;
        if (i < 0 || i >= dim)
          ctx.refuse(`index ${idx.data[k]} is outside axis ${axis} of ${shapeStr(x.shape)}`);
        const src = (o * dim + i) * inner;
        out.set(x.data.subarray(src, src + inner), (o * idx.data.length + k) * inner);
      }
    }
    const shape = [...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)];
    return [{ shape, data: out, signed: x.signed }];
  },
};

const Concat: OpDef = {
  attrs: ['axis'],
  run(ctx) {
    const xs = ctx.inputs.filter((t): t is Tensor => t !== undefined);
    if (xs.length === 0) ctx.refuse('no inputs');
    const rank = xs[0]!.shape.length;
    const axis = ctx.axis(ctx.int('axis'), rank);
    const outer = sizeOf(xs[0]!.shape.slice(0, axis));
    for (const t of xs) {
      if (t.shape.length !== rank || t.shape.some((d, i) => i !== axis && d !== xs[0]!.shape[i])) {
        ctx.refuse(
          `inputs ${xs.map((u) => shapeStr(u.shape)).join(', ')} do not concatenate on axis ${axis}`,
        );
      }
    }
    const total = xs.reduce((n, t) => n + t.shape[axis]!, 0);
    const shape = xs[0]!.shape.map((d, i) => (i === axis ? total : d));
    const out = new Float64Array(sizeOf(shape));
    let pos = 0;
    for (let o = 0; o < outer; o++) {
      for (const t of xs) {
        const chunk = t.data.length / outer;
        out.set(t.data.subarray(o * chunk, (o + 1) * chunk), pos);
        pos += chunk;
      }
    }
    return [{ shape, data: out, signed: xs.some((t) => t.signed) }];
  },
};

const Slice: OpDef = {
  attrs: ['starts', 'ends', 'axes'],
  run(ctx) {
    const x = ctx.input(0, 'data');
    const rank = x.shape.length;
    const fromInputs = ctx.optionalInput(1) !== undefined;
    const starts = fromInputs ? ctx.inputInts(1, 'starts') : ctx.ints('starts');
    const ends = fromInputs ? ctx.inputInts(2, 'ends') : ctx.ints('ends');
    const axesRaw = fromInputs
      ? ctx.optionalInput(3)
        ? ctx.inputInts(3, 'axes')
        : undefined
      : ctx.has('axes')
        ? ctx.ints('axes')
        : undefined;
    const steps = fromInputs && ctx.optionalInput(4) ? ctx.inputInts(4, 'steps') : starts.map(() => 1);
    const axes = (axesRaw ?? starts.map((_, i) => i)).map((a) => ctx.axis(a, rank));
    const lo = x.shape.map(() => 0);
    const step = x.shape.map(() => 1);
    const count = [...x.shape];
    axes.forEach((a, i) => {
      const d = x.shape[a]!;
      const st = steps[i]!;
      if (st === 0) ctx.refuse('a slice step of 0');
      const clampTo = (v: number, l: number, h: number): number =>
        Math.min(Math.max(v < 0 ? v + d : v, l), h);
      const s = st > 0 ? clampTo(starts[i]!, 0, d) : clampTo(starts[i]!, -1, d - 1);
      const e = st > 0 ? clampTo(ends[i]!, 0, d) : clampTo(ends[i]!, -1, d - 1);
      lo[a] = s;
      step[a] = st;
      count[a] = Math.max(0, Math.ceil((e - s) / st));
    });
    const st = stridesOf(x.shape);
    const out = new Float64Array(sizeOf(count));
    const c = count.map(() => 0);
    for (let k = 0; k < out.length; k++) {
      let off = 0;
      for (let i = 0; i < rank; i++) off += (lo[i]! + c[i]! * step[i]!) * st[i]!;
      out[k] = x.data[off]!;
      for (let i = rank - 1; i >= 0; i--) {
        if (++c[i]! < count[i]!) break;
        c[i] = 0;
      }
    }
    return [{ shape: count, data: out, signed: x.signed }];
  },
};

/** Constant padding (pads and value as attributes, or as inputs from opset 11). */
const Pad: OpDef = {
  attrs: ['mode', 'pads', 'value', 'constant_value'],
  run(ctx) {
    const x = ctx.input(0, 'data');
    const rank = x.shape.length;
    const mode = ctx.string('mode', 'constant');
    if (mode !== 'constant') ctx.refuse(`mode ${mode} is not supported (constant only)`);
    let pads = ctx.optionalInput(1) ? ctx.inputInts(1, 'pads') : ctx.ints('pads');
    const value = ctx.optionalInput(2)
      ? ctx.inputScalar(2, 'constant_value')
      : ctx.has('value')
        ? ctx.int('value')
        : 0;
    if (ctx.optionalInput(3)) {
      const axes = ctx.inputInts(3, 'axes').map((a) => ctx.axis(a, rank));
      const full = new Array<number>(2 * rank).fill(0);
      axes.forEach((a, i) => {
        full[a] = pads[i]!;
        full[a + rank] = pads[i + axes.length]!;
      });
      pads = full;
    }
    if (pads.length !== 2 * rank || pads.some((p) => p < 0))
      ctx.refuse(`pads [${pads.join(',')}] must be ${2 * rank} non-negative values`);
    const shape = x.shape.map((d, i) => d + pads[i]! + pads[i + rank]!);
    const out = new Float64Array(sizeOf(shape)).fill(value);
    const st = stridesOf(shape);
    const c = x.shape.map(() => 0);
    for (let k = 0; k < x.data.length; k++) {
      let off = 0;
      for (let i = 0; i < rank; i++) off += (c[i]! + pads[i]!) * st[i]!;
      out[off] = x.data[k]!;
      for (let i = rank - 1; i >= 0; i--) {
        if (++c[i]! < x.shape[i]!) break;
        c[i] = 0;
      }
    }
    return [{ shape, data: out, signed: x.signed || value < 0 }];
  },
};

const Identity: OpDef = { attrs: [], run: (ctx) => [ctx.input(0, 'input')] };

const Constant: OpDef = {
  attrs: ['value'],
  run(ctx) {
    const t = ctx.tensorAttr('value');
    const bad = t.data.find((v) => !Number.isInteger(v));
    if (bad !== undefined) ctx.refuse(`value holds the non-integer value ${bad}`);
    return [t];
  },
};

export const shapeOps: Record<string, OpDef> = {
  Transpose,
  Reshape,
  Flatten,
  Squeeze,
  Unsqueeze,
  Gather,
  Concat,
  Slice,
  Pad,
  Identity,
  Constant,
};
