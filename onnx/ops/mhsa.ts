/**
 * The fused MHSA node Deeploy's ITA pass makes from an attention block: inputs q, k, v (B x S x E),
 * per-head weights wq, wk, wv (H x E x P), wo (H x P x E) and biases; per-head requantisation
 * attributes in ITA's form (`*_requant_mul`, `*_requant_div` = 2^shift, `*_requant_add` added after
 * the shift). The output holds every head's projected output, B x H x S x E (a ReduceSum over
 * axis 1 follows in the graph). It computes what ITA computes.
 */
import type { Requant } from '../../rtl-model/ref/requant.ts';
import type { ItaHead } from '../ita-attention.ts';
import { ITA_PARTIAL_MAX, runItaAttention } from '../ita-attention.ts';
import type { Tensor } from '../tensor.ts';
import { shapeStr } from '../tensor.ts';
import type { OpContext, OpDef } from './context.ts';

const STEPS = ['wq', 'wk', 'wv', 'preattn', 'postattn', 'wo'] as const;

function perHead(ctx: OpContext, name: string, H: number, dflt?: number): number[] {
  const v = ctx.has(name) || dflt === undefined ? ctx.ints(name) : [dflt];
  if (v.length === 1) return new Array<number>(H).fill(v[0]!);
  if (v.length !== H) ctx.refuse(`attribute ${name} must hold 1 or ${H} values, got ${v.length}`);
  return v;
}

function requantOf(ctx: OpContext, step: string, H: number, h: number): Requant {
  const mult = perHead(ctx, `${step}_requant_mul`, H)[h]!;
  const div = perHead(ctx, `${step}_requant_div`, H)[h]!;
  const add = perHead(ctx, `${step}_requant_add`, H, 0)[h]!;
  const shift = Math.log2(div);
  if (!Number.isInteger(shift) || shift < 0 || shift > 31)
    ctx.refuse(`${step}_requant_div must be a power of two up to 2^31, got ${div}`);
  return { mult, shift, add };
}

function slice(ctx: OpContext, t: Tensor, h: number, n: number, role: string): Int32Array {
  if (t.data.length % n !== 0 || t.data.length / n < h + 1)
    ctx.refuse(`${role} ${shapeStr(t.shape)} does not hold ${n} values per head`);
  return Int32Array.from(t.data.subarray(h * n, (h + 1) * n));
}

const MHSA: OpDef = {
  attrs: [
    ...STEPS.flatMap((s) => [`${s}_requant_mul`, `${s}_requant_div`, `${s}_requant_add`]),
    'n_levels',
    'signed',
    'dim',
    'dim_head',
    'heads',
    'S',
    'E',
    'P',
  ],
  run(ctx) {
    const q = ctx.input(0, 'q');
    const k = ctx.input(1, 'k');
    const v = ctx.input(2, 'v');
    const H = ctx.int('heads');
    const P = ctx.int('dim_head');
    if (ctx.int('n_levels', 256) !== 256) ctx.refuse('n_levels must be 256');
    if (ctx.int('signed', 1) !== 1) ctx.refuse('only a signed output is supported (ITA writes int8)');
    const S = q.shape[q.shape.length - 2]!;
    const E = q.shape[q.shape.length - 1]!;
    const B = q.data.length / (S * E);
    if (ctx.has('dim') && ctx.int('dim') !== S)
      ctx.refuse(`attribute dim ${ctx.int('dim')} differs from the sequence length ${S}`);
    for (const [t, role] of [
      [k, 'k'],
      [v, 'v'],
    ] as const) {
      if (t.data.length !== q.data.length)
        ctx.refuse(`${role} ${shapeStr(t.shape)} differs from q ${shapeStr(q.shape)}`);
    }
    const w = (
      i: number,
      role: string,
      n: number,
      optional = false,
    ): ((h: number) => Int32Array | undefined) => {
      const t = optional ? ctx.optionalInput(i) : ctx.input(i, role);
      return (h) => (t ? slice(ctx, t, h, n, role) : undefined);
    };
    const [wq, bq, wk, bk, wv, bv, wo, bo] = mhsaParams(E, P).map((p) =>
      w(p.input, p.role, p.perHead, p.optional),
    );
    const heads: ItaHead[] = [];
    for (let h = 0; h < H; h++) {
      heads.push({
        wq: wq(h)!,
        bq: bq(h),
        wk: wk(h)!,
        bk: bk(h),
        wv: wv(h)!,
        bv: bv(h),
        wo: wo(h)!,
        bo: bo(h),
        rq: {
          q: requantOf(ctx, 'wq', H, h),
          k: requantOf(ctx, 'wk', H, h),
          v: requantOf(ctx, 'wv', H, h),
          qk: requantOf(ctx, 'preattn', H, h),
          av: requantOf(ctx, 'postattn', H, h),
          ow: requantOf(ctx, 'wo', H, h),
        },
      });
    }
    const out = new Float64Array(B * H * S * E);
    for (let b = 0; b < B; b++) {
      const part = (t: Tensor): Int32Array => Int32Array.from(t.data.subarray(b * S * E, (b + 1) * S * E));
      const r = runItaAttention(
        { S, E, P, heads, softmax: ITA_PARTIAL_MAX },
        part(q),
        part(k),
        part(v),
        ctx.options.softmax === 'deeploy' ? 'deeploy' : 'rtl',
      );
      for (let h = 0; h < H; h++) out.set(r.Out_soft[h]!, (b * H + h) * S * E);
    }
    return [{ shape: [B, H, S, E], data: out, signed: true }];
  },
};

/**
 * The MHSA node's weight and bias inputs, in the order wq, bq, wk, bk, wv, bv, wo, bo: input index,
 * role, values per head (all heads stacked), and whether it may be left out (biases).
 */
export function mhsaParams(
  E: number,
  P: number,
): { input: number; role: string; perHead: number; optional: boolean }[] {
  const weight = (input: number, role: string, perHead: number) => ({
    input,
    role,
    perHead,
    optional: false,
  });
  const bias = (input: number, role: string, perHead: number) => ({ input, role, perHead, optional: true });
  return [
    weight(3, 'wq_weight', E * P),
    bias(4, 'wq_bias', P),
    weight(5, 'wk_weight', E * P),
    bias(6, 'wk_bias', P),
    weight(7, 'wv_weight', E * P),
    bias(8, 'wv_bias', P),
    weight(9, 'wo_weight', P * E),
    bias(10, 'wo_bias', E),
  ];
}

export const mhsaOps: Record<string, OpDef> = { MHSA };
