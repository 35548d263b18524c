/**
 * Every op of the executor on small graphs built with the project's ONNX writer, against values
 * worked out by hand from the C kernels' formulas (comments show the arithmetic).
 */
import { describe, expect, it } from 'vitest';
import type { GraphSpec } from '../../onnx/writer.ts';
import { attr } from '../../onnx/writer.ts';
import { c, f, runOp, runSpec, vals } from './helpers.ts';

const rq = (div: number, nLevels = 256, signed = 1) => ({
  div: attr.tensor(div),
  n_levels_out: attr.tensor(nLevels),
  signed: attr.tensor(signed),
});

describe('RequantShift', () => {
  it('signed, per tensor: (x*mul + add + 2^(s-1)) >> s, round half up, clip to int8', () => {
    // 100*3+4 = 304 >> 3 = 38; -296 >> 3 = -37; 115 >> 3 = 14; 3004 >> 3 = 375 -> 127;
    // -2996 >> 3 = -375 -> -128; halves: 4*3 = 12 = 1.5*8 -> 2; -12 = -1.5*8 -> -1 (half up)
    const y = runOp('RequantShift', f([7], [100, -100, 37, 1000, -1000, 4, -4]), rq(8), [
      c([], [3]),
      c([], [0]),
    ]);
    expect(vals(y)).toEqual([38, -37, 14, 127, -128, 2, -1]);
  });
  it('unsigned clips to 0..255', () => {
    // mul 2, add 16, s 2: -20+16+2 = -2 >> 2 = -1 -> 0; 18 >> 2 = 4; 38 >> 2 = 9; 418 >> 2 = 104; 2018 >> 2 = 504 -> 255
    const y = runOp('RequantShift', f([5], [-10, 0, 10, 200, 1000]), rq(4, 256, 0), [
      c([], [2]),
      c([], [16]),
    ]);
    expect(vals(y)).toEqual([0, 4, 9, 104, 255]);
    expect(y.signed).toBe(false);
  });
  it('per channel ([C,1,1] and a 1-D list as long as axis 1)', () => {
    const y = runOp('RequantShift', f([1, 2, 1, 2], [1, 2, 3, 4]), rq(1), [
      c([2, 1, 1], [1, 10]),
      c([2, 1, 1], [0, -8]),
    ]);
    expect(vals(y)).toEqual([1, 2, 22, 32]);
    const z = runOp('RequantShift', f([1, 2, 1, 3], [1, 1, 1, 2, 2, 2]), rq(1), [
      c([2], [2, 3]),
      c([2], [0, 0]),
    ]);
    expect(vals(z)).toEqual([2, 2, 2, 6, 6, 6]);
  });
  it('per row and per column', () => {
    // rows: mul [1,2], add [0,100], s 1: (1+1)>>1 = 1, 3>>1 = 1, 4>>1 = 2; (8+100+1)>>1 = 54, 111>>1 = 55, 113>>1 = 56
    const y = runOp('RequantShift', f([2, 3], [1, 2, 3, 4, 5, 6]), rq(2), [
      c([2, 1], [1, 2]),
      c([2, 1], [0, 100]),
    ]);
    expect(vals(y)).toEqual([1, 1, 2, 54, 55, 56]);
    const z = runOp('RequantShift', f([2, 3], [1, 2, 3, 4, 5, 6]), rq(1), [
      c([3], [1, 2, 3]),
      c([3], [0, 0, 0]),
    ]);
    expect(vals(z)).toEqual([1, 4, 9, 4, 10, 18]);
  });
  it('the int32 intermediate wraps like the C kernel', () => {
    // 2^20 * 2^12 = 2^32 wraps to 0, + 5
    const y = runOp('RequantShift', f([1], [1048576]), rq(1), [c([], [4096]), c([], [5])]);
    expect(vals(y)).toEqual([5]);
  });
  it('refuses a div that is not a power of two', () => {
    expect(() => runOp('RequantShift', f([1], [1]), rq(6), [c([], [1]), c([], [0])])).toThrow(
      'node n0 (RequantShift): attribute div must be a power of two from 1 to 2^31, got 6',
    );
  });
});

describe('MatMul, Gemm, Add', () => {
  it('MatMul 2x3 x 3x2 and a batched product', () => {
    // [1 2 3; 4 5 6] x [7 8; 9 10; 11 12] = [58 64; 139 154]
    expect(vals(runOp('MatMul', [f([2, 3], [1, 2, 3, 4, 5, 6]), f([3, 2], [7, 8, 9, 10, 11, 12])]))).toEqual([
      58, 64, 139, 154,
    ]);
    const y = runOp('MatMul', [f([2, 1, 2], [1, 2, 3, 4]), f([2, 1], [5, 6])]);
    expect(y.shape).toEqual([2, 1, 1]);
    expect(vals(y)).toEqual([17, 39]);
  });
  it('Gemm with alpha, beta, transB and a broadcast C', () => {
    // A B^T = [1 3; 3 7]; 2*that + 3*[10 -1] = [32 3; 36 11]
    const y = runOp(
      'Gemm',
      f([2, 2], [1, 2, 3, 4]),
      { alpha: attr.int(2), beta: attr.int(3), transB: attr.int(1) },
      [c([2, 2], [1, 0, 1, 1]), c([2], [10, -1])],
    );
    expect(vals(y)).toEqual([32, 3, 36, 11]);
  });
  it('Gemm with transA (float alpha holding an integer)', () => {
    // A^T = [1 3; 2 4]; times I = A^T
    const y = runOp('Gemm', f([2, 2], [1, 2, 3, 4]), { alpha: attr.float(1), transA: attr.int(1) }, [
      c([2, 2], [1, 0, 0, 1]),
    ]);
    expect(vals(y)).toEqual([1, 3, 2, 4]);
  });
  it('Add broadcasts', () => {
    expect(vals(runOp('Add', [f([2, 2], [1, 2, 3, 4]), f([2], [10, 20])]))).toEqual([11, 22, 13, 24]);
    // either operand, or both, repeated along the result's axes
    expect(vals(runOp('Sub', [f([2, 1], [10, 20]), f([2, 2], [1, 2, 3, 4])]))).toEqual([9, 8, 17, 16]);
    expect(vals(runOp('Sub', [f([2, 1], [10, 20]), f([1, 3], [1, 2, 3])]))).toEqual([9, 8, 7, 19, 18, 17]);
  });
  it('IntegerDiv rounds half away from zero', () => {
    // (7+1)/2 = 4, (-7-1)/2 = -4, (6+2)/4 = 2
    const y = runOp('IntegerDiv', [f([3], [7, -7, 6]), f([3], [2, 2, 4])], {
      Delta: attr.int(1),
      eps: attr.int(0),
      eta: attr.int(1),
    });
    expect(vals(y)).toEqual([4, -4, 2]);
  });
  it('RQIntegerDiv requantises the quotient', () => {
    // quotients 4, -4, 2; (q*5 + 1 + 2) >> 2: 23 >> 2 = 5, -17 >> 2 = -5, 13 >> 2 = 3
    const y = runOp(
      'RQIntegerDiv',
      [f([3], [7, -7, 6]), f([3], [2, 2, 4])],
      { Delta: attr.int(1), eps: attr.int(0), eta: attr.int(1) },
      [c([], [5]), c([], [1]), c([], [2])],
    );
    expect(vals(y)).toEqual([5, -5, 3]);
  });
});

describe('data movement', () => {
  it('Transpose, Reshape, Gather', () => {
    const x = f([2, 3], [1, 2, 3, 4, 5, 6]);
    const t = runOp('Transpose', x, { perm: attr.ints([1, 0]) });
    expect([t.shape, vals(t)]).toEqual([
      [3, 2],
      [1, 4, 2, 5, 3, 6],
    ]);
    const r = runOp('Reshape', x, {}, [c([2], [3, -1], 'int64')]);
    expect([r.shape, vals(r)]).toEqual([
      [3, 2],
      [1, 2, 3, 4, 5, 6],
    ]);
    const g = runOp('Gather', x, { axis: attr.int(1) }, [c([], [1], 'int64')]);
    expect([g.shape, vals(g)]).toEqual([[2], [2, 5]]);
    const h = runOp('Gather', x, {}, [c([1], [-1], 'int64')]);
    expect([h.shape, vals(h)]).toEqual([
      [1, 3],
      [4, 5, 6],
    ]);
  });
});

describe('Conv and MaxPool', () => {
  const x = f([1, 1, 3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  it('Conv without padding', () => {
    // [1 2; 4 5].[1 2; 3 4] = 1+4+12+20 = 37; 2+6+15+24 = 47; 4+10+21+32 = 67; 5+12+24+36 = 77
    const y = runOp('Conv', x, { kernel_shape: attr.ints([2, 2]) }, [c([1, 1, 2, 2], [1, 2, 3, 4])]);
    expect([y.shape, vals(y)]).toEqual([
      [1, 1, 2, 2],
      [37, 47, 67, 77],
    ]);
  });
  it('Conv with padding 1, stride 2 and a bias', () => {
    // corners of the zero-padded input: 1*4 = 4; 2*3+3*4 = 18; 4*2+7*4 = 36; 5+12+24+36 = 77; + 100
    const y = runOp('Conv', x, { pads: attr.ints([1, 1, 1, 1]), strides: attr.ints([2, 2]) }, [
      c([1, 1, 2, 2], [1, 2, 3, 4]),
      c([1], [100]),
    ]);
    expect(vals(y)).toEqual([104, 118, 136, 177]);
  });
  it('grouped Conv', () => {
    const y = runOp('Conv', f([1, 2, 1, 1], [3, 5]), { group: attr.int(2) }, [c([2, 1, 1, 1], [2, -1])]);
    expect(vals(y)).toEqual([6, -5]);
  });
  it('MaxPool 2x2 stride 2', () => {
    const y = runOp('MaxPool', f([1, 1, 4, 4], [1, -2, 3, 4, 5, 6, -7, 8, 9, 10, 11, 12, -13, 14, 15, 16]), {
      kernel_shape: attr.ints([2, 2]),
      strides: attr.ints([2, 2]),
    });
    expect(vals(y)).toEqual([6, 8, 14, 16]);
  });
  it('refuses ceil_mode 1', () => {
    expect(() => runOp('MaxPool', x, { kernel_shape: attr.ints([2, 2]), ceil_mode: attr.int(1) })).toThrow(
      'node n0 (MaxPool): ceil_mode 1 is not supported',
    );
  });
});

describe('integer normalisation and activations', () => {
  it('iLayerNorm: truncating mean, variance + 1, integer sqrt, truncating division, wrap to int8', () => {
    // row 1: mean trunc(10/4) = 2, squares 1+0+1+4 = 6, var trunc(6/4)+1 = 2, std 1;
    //   ((x-2)*8/1 + b) >> 2 with b = [0,0,0,4]: -2, 0, 2, 5
    // row 2 (weights used per column): [0,0,0,6]: mean 1, squares 1+1+1+25 = 28, var 7+1 = 8, std 2;
    //   (-1*8)/2 = -4 >> 2 = -1; (5*8)/2 = 20, +4 = 24 >> 2 = 6
    const y = runOp(
      'iLayerNorm',
      f([2, 4], [1, 2, 3, 4, 0, 0, 0, 6]),
      { D: attr.tensor(4), n_levels: attr.tensor(256) },
      [c([4], [8, 8, 8, 8]), c([4], [0, 0, 0, 4])],
    );
    expect(vals(y)).toEqual([-2, 0, 2, 5, -1, -1, -1, 6]);
    // truncation towards zero and the int8 wrap: w = [3,3,3,100], D = 1:
    //   (-1*3)/2 = trunc(-1.5) = -1 (floor would give -2); (5*100)/2 = 250 wraps to -6
    const z = runOp(
      'iLayerNorm',
      f([1, 4], [0, 0, 0, 6]),
      { D: attr.tensor(1), n_levels: attr.tensor(256) },
      [c([4], [3, 3, 3, 100]), c([4], [0, 0, 0, 0])],
    );
    expect(vals(z)).toEqual([-1, -1, -1, -6]);
  });
  it('iGELU with b = -42, one = 1929', () => {
    // x=10: q 10, d -32, L 1929-1024 = 905, 10*((1929+905)>>1) = 14170
    // x=-10: L = -905, -10*((1929-905)>>1) = -5120; x=50: q 42, L 1929, 50*1929 = 96450
    // x=-50: L -1929, 0; x=-3: d -39, L -(1929-1521) = -408, -3*(1521>>1) = -2280; x=0: 0
    const y = runOp('iGELU', f([6], [10, -10, 50, -50, -3, 0]), { b: attr.int(-42), one: attr.int(1929) });
    expect(vals(y)).toEqual([14170, -5120, 96450, 0, -2280, 0]);
  });
  it('RequantizediGELU', () => {
    // (14170 + 64) >> 7 = 111; (96450 + 64) >> 7 = 754 -> 127; (-5120 + 64) >> 7 = -40
    const y = runOp('RequantizediGELU', f([3], [10, 50, -10]), { b: attr.int(-42), one: attr.int(1929) }, [
      c([], [1]),
      c([], [0]),
      c([], [7]),
    ]);
    expect(vals(y)).toEqual([111, 127, -40]);
  });
  it('IntegerMean: shift rounding for powers of two, half away from zero otherwise', () => {
    // (10+2)>>2 = 3; (-10+2)>>2 = -2; (5+2)>>2 = 1
    const y = runOp('IntegerMean', f([3, 4], [1, 2, 3, 4, -1, -2, -3, -4, 1, 1, 1, 2]), {
      axes: attr.ints([1]),
      keepdims: attr.int(0),
    });
    expect([y.shape, vals(y)]).toEqual([[3], [3, -2, 1]]);
    // keepdims, count 3: (5+1)/3 = 2; trunc((-5-1)/3) = -2; (4+1)/3 -> 1
    const z = runOp('IntegerMean', f([3, 3], [1, 2, 2, -1, -2, -2, 1, 1, 2]), {
      axes: attr.ints([1]),
      keepdims: attr.int(1),
    });
    expect([z.shape, vals(z)]).toEqual([
      [3, 1],
      [2, -2, 1],
    ]);
  });
  it('iNoNorm: ((x*w + b) * mul) >> log2(D), wrapped to 8 bits', () => {
    // (30+5)*2 = 70 >> 2 = 17; (-30+5)*2 = -50 >> 2 = -13; 127*127 = 16129 >> 2 (mul 1, +3) = 4033 -> wraps to -63
    const y = runOp(
      'iNoNorm',
      f([1, 3], [10, -10, 127]),
      { D: attr.tensor(4), mul: attr.tensor(2), n_levels: attr.tensor(256) },
      [c([3], [3, 3, 127]), c([3], [5, 5, -16129 + 4033 * 2])],
    );
    // third: 16129 + (-8063) = 8066, *2 = 16132, >> 2 = 4033, wraps to 4033 - 16*256 = -63
    expect(vals(y)).toEqual([17, -13, -63]);
  });
});

describe('softmaxes', () => {
  it('iSoftmax (coeffA 1, coeffB 4, coeffC 0, log2 2)', () => {
    // x-max = 0, -2, -4, -9 -> z = 0, 1, 2, 4; p = 0, 0, 0, -1; y = 16, 8, 4, 9>>4 = 0; sum 28
    // y*255/28 = 145, 72, 36, 0
    const a = {
      coeffA: attr.tensor(1),
      coeffB: attr.tensor(4),
      coeffC: attr.tensor(0),
      log2: attr.tensor(2),
      n_levels: attr.tensor(256),
    };
    expect(vals(runOp('iSoftmax', f([1, 4], [5, 3, 1, -4]), a))).toEqual([145, 72, 36, 0]);
  });
  it('ITAMax (Deeploy): shifts (max - x + 16) >> 5, scale 255*256', () => {
    // shifts 0, 1, 2, 3; sum 256+128+64+32 = 480; 65280/480 = 136; 136, 68, 34, 17
    expect(vals(runOp('ITAMax', f([1, 4], [0, -16, -48, -100]), { n_levels: attr.tensor(256) }))).toEqual([
      136, 68, 34, 17,
    ]);
  });
  it('ITAPartialMax (Deeploy): groups, rescaled partial sums, scale 127*256', () => {
    // group [0,-16]: max 0, sum 256 + 128 = 384; group [40,-100]: max 40, shift (40+16)>>5 = 1,
    // sum 256 + (256 >> 4) = 272, acc 384/2 + 272 = 464; 32512/464 = 70
    // outputs 70 >> 1 = 35, 70 >> 2 = 17, 70, 70 >> 4 = 4
    // second row: [0,0] sum 512; [16,16] raises the max by 16: (16+16)>>5 = 1, acc 256 + 512 = 768;
    // 32512/768 = 42; outputs 42 >> ((16+16)>>5) = 21, 21, 42, 42
    const y = runOp('ITAPartialMax', f([2, 4], [0, -16, 40, -100, 0, 0, 16, 16]), {
      group_width: attr.int(2),
      n_levels: attr.tensor(256),
    });
    expect(vals(y)).toEqual([35, 17, 70, 4, 21, 21, 42, 42]);
  });
  it('ITAPartialMax in the two variants on a uniform row of 16', () => {
    // Deeploy: 32512 / (16*256) = 7; RTL: 65280 / 4096 = 15
    const x = f([1, 16], new Array(16).fill(3));
    const a = { group_width: attr.int(16), n_levels: attr.tensor(256) };
    expect(vals(runOp('ITAPartialMax', x, a, [], 'deeploy'))).toEqual(new Array(16).fill(7));
    expect(vals(runOp('ITAPartialMax', x, a, [], 'rtl'))).toEqual(new Array(16).fill(15));
  });
  it('the RTL variant shifts by the plain difference', () => {
    // row 0, -1, ..., -15: sum 256+128+...+1 = 511; 65280/511 = 127; outputs 127 >> k
    const x = f(
      [1, 16],
      [...Array(16).keys()].map((k) => -k),
    );
    const y = runOp('ITAMax', x, { n_levels: attr.tensor(256) }, [], 'rtl');
    expect(vals(y)).toEqual([...Array(16).keys()].map((k) => 127 >> k));
  });
});

describe('more integer ops', () => {
  it('Pad with a constant (attribute form)', () => {
    const y = runOp('Pad', f([1, 2], [1, 2]), {
      mode: attr.string('constant'),
      pads: attr.ints([0, 1, 0, 2]),
      value: attr.int(-3),
    });
    expect([y.shape, vals(y)]).toEqual([
      [1, 5],
      [-3, 1, 2, -3, -3],
    ]);
  });
  it('iHardswish and its requantised form', () => {
    // one_over_six 1, three 3, six 6: -4 -> clamp(-1) = 0 -> 0; 1 -> 4 -> 4; 5 -> 6 -> 30; -2 -> 1 -> -2
    const a = { one_over_six: attr.int(1), three: attr.int(3), six: attr.int(6) };
    expect(vals(runOp('iHardswish', f([4], [-4, 1, 5, -2]), a))).toEqual([0, 4, 30, -2]);
    // the C kernel multiplies by the raw int8 buffer: for an unsigned input that is x - 128
    expect(vals(runOp('iHardswish', f([2], [1, 5]), a))).toEqual([(1 - 128) * 4, (5 - 128) * 6]);
    // requantised: (30*3 + 1 + 2) >> 2 = 23; (-2*3 + 1 + 2) >> 2 = -1
    const r = runOp('RequantizediHardswish', f([2], [5, -2]), {
      ...a,
      mul: attr.int(3),
      add: attr.int(1),
      shift: attr.int(2),
    });
    expect(vals(r)).toEqual([23, -1]);
  });
  it('iRMSNorm: truncating division, clip to int8', () => {
    // squares 36+4+36+4 = 80, /4 = 20, +1 = 21, std 4; 6/4 -> 1, -2/4 -> 0 (trunc), 6/4 -> 1, 2000/4 = 500 -> 127
    const y = runOp('iRMSNorm', f([1, 4], [6, -2, 6, -2]), { D: attr.int(1), n_levels: attr.int(256) }, [
      c([4], [1, 1, 1, -1000]),
    ]);
    expect(vals(y)).toEqual([1, 0, 1, 127]);
  });
  it('TrueIntegerDiv is fused into the following RequantShift as Deeploy does', () => {
    // coeff = floor(16384*200000 / (2*200000 + 1)) = 8191, * 256 = 2096896; div 256 * 256 = 65536
    // 3: (6290688 + 32768) >> 16 = 96; -3: -6257920 >> 16 = -96; 1: 2129664 >> 16 = 32
    const spec: GraphSpec = {
      inputs: [{ name: 'x', shape: [3] }],
      outputs: [{ name: 'y' }],
      initializers: { m: c([], [1]), a: c([], [0]) },
      nodes: [
        {
          op: 'TrueIntegerDiv',
          name: 'td',
          inputs: ['x'],
          outputs: ['d'],
          attrs: { Delta: attr.int(16384), eta: attr.int(200000), eps: attr.int(1), y: attr.int(2) },
        },
        {
          op: 'RequantShift',
          name: 'rq',
          inputs: ['d', 'm', 'a'],
          outputs: ['y'],
          attrs: { div: attr.tensor(256), n_levels_out: attr.tensor(256), signed: attr.tensor(1) },
        },
      ],
    };
    expect(vals(runSpec(spec, { x: f([3], [3, -3, 1]) }).outputs.get('y')!)).toEqual([96, -96, 32]);
    expect(() =>
      runOp('TrueIntegerDiv', f([1], [1]), {
        Delta: attr.int(1),
        eta: attr.int(1),
        eps: attr.int(0),
        y: attr.int(1),
      }),
    ).toThrow(/^node n0 \(TrueIntegerDiv\): supported only when followed by a RequantShift/);
  });
  it('Slice, Concat, Squeeze, Unsqueeze, Flatten', () => {
    const x = f([2, 3], [1, 2, 3, 4, 5, 6]);
    const s = runOp('Slice', x, {}, [
      c([2], [0, 1], 'int64'),
      c([2], [2, 3], 'int64'),
      c([2], [0, 1], 'int64'),
    ]);
    expect([s.shape, vals(s)]).toEqual([
      [2, 2],
      [2, 3, 5, 6],
    ]);
    const cc = runOp('Concat', [f([2, 1], [1, 2]), f([2, 2], [3, 4, 5, 6])], { axis: attr.int(1) });
    expect([cc.shape, vals(cc)]).toEqual([
      [2, 3],
      [1, 3, 4, 2, 5, 6],
    ]);
    expect(runOp('Unsqueeze', x, { axes: attr.ints([0]) }).shape).toEqual([1, 2, 3]);
    expect(runOp('Squeeze', f([1, 2, 1], [1, 2]), { axes: attr.ints([0]) }).shape).toEqual([2, 1]);
    expect(runOp('Flatten', f([2, 3, 1], [1, 2, 3, 4, 5, 6])).shape).toEqual([2, 3]);
  });
  it('Sub, Mul, ReduceSum, Relu, Clip', () => {
    expect(vals(runOp('Sub', [f([2], [5, -5]), f([2], [1, 1])]))).toEqual([4, -6]);
    expect(vals(runOp('Mul', [f([2], [3, -4]), f([1], [2])]))).toEqual([6, -8]);
    expect(
      vals(
        runOp('ReduceSum', f([2, 3], [1, 2, 3, 4, 5, 6]), { axes: attr.ints([1]), keepdims: attr.int(0) }),
      ),
    ).toEqual([6, 15]);
    expect(vals(runOp('Relu', f([3], [-1, 0, 2])))).toEqual([0, 0, 2]);
    expect(vals(runOp('Clip', f([3], [-9, 0, 9]), {}, [c([], [-2]), c([], [3])]))).toEqual([-2, 0, 3]);
  });
  it('refuses a non-integer Constant', () => {
    const spec: GraphSpec = {
      inputs: [{ name: 'x', shape: [1] }],
      outputs: [{ name: 'y' }],
      nodes: [
        { op: 'Constant', name: 'k', inputs: [], outputs: ['s'], attrs: { value: attr.tensor(0.25) } },
        { op: 'Mul', name: 'm', inputs: ['x', 's'], outputs: ['y'] },
      ],
    };
    expect(() => runSpec(spec, { x: f([1], [4]) })).toThrow(
      'node k (Constant): value holds the non-integer value 0.25',
    );
  });
});
