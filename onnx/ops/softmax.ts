/** Softmax ops (iSoftmax, ITAMax, ITAPartialMax), row-wise over the last axis. */
import { iSoftmaxRow, itaMaxDeeployRow, itaMaxRtl, itaPartialMaxRow } from '../softmax.ts';
import type { Tensor } from '../tensor.ts';
import { mapValues } from '../tensor.ts';
import type { OpContext, OpDef } from './context.ts';

function rowsOf(ctx: OpContext, x: Tensor): [number, number] {
  if (x.shape.length === 0) ctx.refuse('a scalar input has no axis to normalise');
  const cols = x.shape[x.shape.length - 1]!;
  return [cols === 0 ? 0 : x.data.length / cols, cols];
}

/**
 * The int8 buffer contents the kernels read: an unsigned tensor is kept offset by -128. Only
 * differences to the row maximum matter, so this changes nothing but the range check.
 */
function stored8(ctx: OpContext, x: Tensor): Tensor {
  const data = x.signed ? x.data : mapValues(x.data, (v) => v - 128);
  for (const v of data)
    if (v < -128 || v > 127) ctx.refuse(`input value ${x.signed ? v : v + 128} is outside the 8-bit range`);
  return { shape: x.shape, data, signed: true };
}

function nLevels(ctx: OpContext): number {
  const n = ctx.int('n_levels');
  if (n !== 256) ctx.refuse(`n_levels must be 256 (8-bit activations), got ${n}`);
  return n;
}

/** The RTL's ITAMax over rows of the last axis. */
export function rtlSoftmax(ctx: OpContext, x: Tensor): Tensor {
  const [rows, cols] = rowsOf(ctx, x);
  if (cols % 16 !== 0) ctx.refuse(`the RTL softmax needs rows that are a multiple of 16 long, got ${cols}`);
  const s = stored8(ctx, x);
  return { shape: x.shape, data: Float64Array.from(itaMaxRtl(s.data, rows, cols)), signed: false };
}

/** Deeploy's ITAPartialMax over rows of the last axis. */
export function deeployPartialSoftmax(ctx: OpContext, x: Tensor, group: number, n: number): Tensor {
  const [rows, cols] = rowsOf(ctx, x);
  if (group < 1 || cols % group !== 0)
    ctx.refuse(`group_width ${group} does not divide the row length ${cols}`);
  const s = stored8(ctx, x);
  const out = new Float64Array(x.data.length);
  for (let r = 0; r < rows; r++) itaPartialMaxRow(s.data, r * cols, cols, group, n, out);
  return { shape: x.shape, data: out, signed: false };
}

const ITAPartialMax: OpDef = {
  attrs: ['group_width', 'n_levels'],
  run(ctx) {
    const x = ctx.input(0, 'data');
    const n = nLevels(ctx);
    const group = ctx.int('group_width', 16);
    if (ctx.options.softmax === 'rtl') return [rtlSoftmax(ctx, x)];
    return [deeployPartialSoftmax(ctx, x, group, n)];
  },
};

const ITAMax: OpDef = {
  attrs: ['n_levels'],
  run(ctx) {
    const x = ctx.input(0, 'data');
    const n = nLevels(ctx);
    if (ctx.options.softmax === 'rtl') return [rtlSoftmax(ctx, x)];
    const [rows, cols] = rowsOf(ctx, x);
    const s = stored8(ctx, x);
    const out = new Float64Array(x.data.length);
    for (let r = 0; r < rows; r++) itaMaxDeeployRow(s.data, r * cols, cols, n, out);
    return [{ shape: x.shape, data: out, signed: false }];
  },
};

const iSoftmax: OpDef = {
  attrs: ['coeffA', 'coeffB', 'coeffC', 'log2', 'n_levels'],
  run(ctx) {
    const x = ctx.input(0, 'data');
    const c = {
      coeffA: ctx.int('coeffA'),
      coeffB: ctx.int('coeffB'),
      coeffC: ctx.int('coeffC'),
      log2: ctx.int('log2'),
      nLevels: nLevels(ctx),
    };
    if (c.log2 < 1) ctx.refuse(`attribute log2 must be positive, got ${c.log2}`);
    const [rows, cols] = rowsOf(ctx, x);
    const s = stored8(ctx, x);
    const out = new Float64Array(x.data.length);
    for (let r = 0; r < rows; r++) iSoftmaxRow(s.data, r * cols, cols, c, out);
    return [{ shape: x.shape, data: out, signed: false }];
  },
};

export const softmaxOps: Record<string, OpDef> = { ITAPartialMax, ITAMax, iSoftmax };
