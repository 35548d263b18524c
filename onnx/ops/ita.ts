/**
 * ITA's own activation as a graph op, for graphs meant to run on ITA's linear layers:
 *
 *   ITAGELU(x; b, c, mult, shift, add)
 *
 * takes the int8 output of a linear layer's requantiser and computes what ITA's activation unit
 * does with it: the RTL's integer GELU (`rtl-model/ref/gelu.ts geluRaw`, 16-bit constants b and c,
 * 26-bit datapath) followed by the activation requantiser (`mult` 0..255, `shift`, `add` int8,
 * round half up, saturate to int8). This is not Deeploy's iGELU (different polynomial form and
 * requantisation), which is why it is a separate op.
 */
import { geluRequantized } from '../../rtl-model/ref/gelu.ts';
import type { OpDef } from './context.ts';

const ITAGELU: OpDef = {
  attrs: ['b', 'c', 'mult', 'shift', 'add'],
  run(ctx) {
    const x = ctx.input(0, 'data');
    const b = ctx.int('b');
    const c = ctx.int('c');
    const mult = ctx.int('mult');
    const shift = ctx.int('shift');
    const add = ctx.int('add', 0);
    for (const [name, v, lo, hi] of [
      ['b', b, -32768, 32767],
      ['c', c, -32768, 32767],
      ['mult', mult, 0, 255],
      ['shift', shift, 0, 31],
      ['add', add, -128, 127],
    ] as const)
      if (v < lo || v > hi) ctx.refuse(`attribute ${name} must be from ${lo} to ${hi}, got ${v}`);
    const g = { one: c, b, c, rqsMul: mult, rqsShift: shift, rqsAdd: add };
    const out = new Float64Array(x.data.length);
    for (let i = 0; i < out.length; i++) {
      const v = x.data[i]!;
      if (v < -128 || v > 127) ctx.refuse(`input value ${v} is not int8 (ITA's activation reads int8)`);
      out[i] = geluRequantized(v, g);
    }
    return [{ shape: x.shape, data: out, signed: true }];
  },
};

export const itaOps: Record<string, OpDef> = { ITAGELU };
