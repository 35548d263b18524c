/**
 * The place pass: each tiler op onto ITA or the 8 cores, with the reason. The only place that
 * decides where an op runs; the scheduler and the report read its answer.
 *
 * ITA computes attention (the fused MHSA: Q, K, V, QK + ITAMax + AV, OW per head), linear layers
 * with at most 15 inner tiles (its TILES register: K <= 960) and the products of two activations
 * map.ts found exact on ITA (`itaRq`). Everything else runs on the cores, as does everything in
 * cluster-only mode.
 */
import type { TilerOp } from './map.ts';

export type Where = 'ita' | 'cores';

export interface Placed {
  where: Where;
  /** Why the op runs there, one phrase. */
  reason: string;
}

/** ITA's TILES register counts at most this many inner tiles of 64. */
export const ITA_MAX_INNER_TILES = 15;

/** Where one op runs. */
export function placeOp(op: TilerOp, clusterOnly: boolean): Placed {
  switch (op.kind) {
    case 'attention':
      return clusterOnly
        ? { where: 'cores', reason: 'cluster-only: gemm and itamax on the cores' }
        : { where: 'ita', reason: `attention, ${op.heads.length} head(s), on ITA's steps` };
    case 'linear': {
      if (clusterOnly) return { where: 'cores', reason: 'cluster-only: gemm on the cores' };
      const te = op.x.cols / 64;
      if (te > ITA_MAX_INNER_TILES)
        return {
          where: 'cores',
          reason: `K = ${op.x.cols} exceeds ITA's ${ITA_MAX_INNER_TILES} inner tiles (K <= ${64 * ITA_MAX_INNER_TILES}): gemm on the cores`,
        };
      return { where: 'ita', reason: "linear in ITA's requantiser form" };
    }
    case 'dgemm':
      if (op.itaRq && op.x.cols / 64 <= ITA_MAX_INNER_TILES)
        return clusterOnly
          ? { where: 'cores', reason: 'cluster-only: gemm on the cores' }
          : {
              where: 'ita',
              reason: "product of two activations in ITA's requantiser form (A within int8): ITA's linear",
            };
      return { where: 'cores', reason: `not ITA's linear (${op.notIta}): Deeploy's int32 gemm on the cores` };
    case 'sum':
      return { where: 'cores', reason: 'head sum: ITA has no step for it' };
    case 'add':
      return { where: 'cores', reason: 'residual add: ITA has no step for it' };
    case 'layernorm':
      return { where: 'cores', reason: 'iLayerNorm: ITA has no step for it' };
    case 'nonorm':
      return { where: 'cores', reason: 'iNoNorm: ITA has no step for it' };
    case 'isoftmax':
      return { where: 'cores', reason: "iSoftmax: ITA's softmax is ITAMax, not I-BERT's polynomial" };
    case 'conv':
      return {
        where: 'cores',
        reason: 'conv with a requantiser per channel: ITA has one per job; direct conv on the cores',
      };
    case 'pool':
      return { where: 'cores', reason: 'MaxPool: ITA has no step for it' };
    case 'transpose':
      return { where: 'cores', reason: 'transpose: ITA has no step for it' };
    case 'rmsnorm':
      return { where: 'cores', reason: 'iRMSNorm: ITA has no step for it' };
    case 'mul':
      return { where: 'cores', reason: 'element-wise product of two activations: ITA has no step for it' };
    case 'copy':
      return {
        where: 'cores',
        reason: `${op.parts.length} block${op.parts.length > 1 ? 's' : ''} copied on the cores (a slice, a concat or a relayout), the padding cleared`,
      };
    case 'lut':
      return { where: 'cores', reason: 'element-wise ops of one 8-bit input: a 256-entry table' };
    case 'pmax':
      return {
        where: 'cores',
        reason: `Deeploy's ${op.full ? 'ITAMax' : 'ITAPartialMax'} kernel (its rounding differs from ITA's softmax): on the cores`,
      };
    case 'colmean':
      return { where: 'cores', reason: 'IntegerMean: ITA has no step for it' };
  }
}

/** Where every op runs, in op order. */
export function place(ops: readonly TilerOp[], opts: { clusterOnly: boolean }): Placed[] {
  return ops.map((op) => placeOp(op, opts.clusterOnly));
}
