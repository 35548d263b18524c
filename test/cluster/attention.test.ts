/**
 * Cluster-only attention (S = E = P = 64, one head): the C kernel on the cycle-level cluster
 * against the ITA functional reference (`rtl-model/ref/ita.ts`), every intermediate byte compared.
 * This is the baseline ITA's speed-up is measured against; its cycles are printed.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PARAMS, generateInputs } from '../../golden/generate.ts';
import { Cluster } from '../../rtl-model/cluster/cluster.ts';
import { computeOutputs, requantOf, transpose } from '../../rtl-model/ref/ita.ts';

export function runAttention(seed: number) {
  const params = { ...DEFAULT_PARAMS, S: 64, E: 64, P: 64, H: 1 };
  const { S, E, P } = params;
  const inp = generateInputs(params, seed);
  const ref = computeOutputs(inp);
  const c = Cluster.fromElf(
    readFileSync(new URL('../../sw/bin/attention.elf', import.meta.url)),
    {},
    'attention.elf',
  );
  const args = new Int32Array(3 + 18);
  args.set([S, E, P]);
  for (let st = 0; st < 6; st++) {
    const rq = requantOf(inp.rqsAttn, st, 0);
    args.set([rq.mult, rq.shift, rq.add], 3 + 3 * st);
  }
  c.writeSymbol('attn_args', args);
  const i8 = (a: Int32Array) => Int8Array.from(a);
  c.writeSymbol('attn_q', i8(inp.Q.data));
  c.writeSymbol('attn_k', i8(inp.K.data));
  c.writeSymbol('attn_wqt', i8(transpose(inp.Wq.data, E, P)));
  c.writeSymbol('attn_wkt', i8(transpose(inp.Wk.data, E, P)));
  c.writeSymbol('attn_wvt', i8(transpose(inp.Wv.data, E, P)));
  c.writeSymbol('attn_wot', i8(transpose(inp.Wo.data, P, E)));
  const bias = new Int32Array(4 * 64);
  bias.set(inp.Bq.data, 0);
  bias.set(inp.Bk.data, 64);
  bias.set(inp.Bv.data, 128);
  bias.set(inp.Bo.data, 192);
  c.writeSymbol('attn_bias', bias);
  const run = c.run(20_000_000);
  const block = (k: number) => Int8Array.from(c.readSymbol('attn_out', 64 * 64, k * 64 * 64));
  const stepCycles = Array.from(new Uint32Array(c.readSymbol('attn_args', 24, 4 * 21).slice().buffer));
  return { run, ref, block, stepCycles, params };
}

describe('cluster-only attention, S = E = P = 64', () => {
  it('every step is bit-exact with the ITA reference; reports cycles', () => {
    const { run, ref, block, stepCycles } = runAttention(1);
    expect(run.exitCode).toBe(0);
    const same = (got: Int8Array, want: Int32Array) =>
      expect(Array.from(got)).toEqual(Array.from(Int8Array.from(want)));
    same(block(0), ref.Qp.data);
    same(block(1), ref.Kp.data);
    same(block(2), transpose(ref.Vp.data, 64, 64));
    same(block(3), ref.A.data);
    same(block(4), ref.A_soft.data);
    same(block(5), ref.O_soft.data);
    same(block(6), ref.Out_soft.data);
    console.log(
      `attention S=E=P=64: ${run.cycles} cycles; per step (Q, K, V, QK+softmax, AV, OW): ${stepCycles.join(', ')}`,
    );
  });
});
