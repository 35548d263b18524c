/**
 * Cycle-by-cycle comparison with an RTL per-cycle trace (`rtl-traces/per-cycle/` format): the model
 * is sampled where the testbench samples (after the combinational pass) and every column the trace
 * shares with the model is compared: step, calc_en, valid_o, ready_i, busy, start, last_inner_tile,
 * the input and weight handshakes, and the output bytes while valid_o.
 */
import type { Ita } from './ita.ts';
import { STEP_NAMES } from './params.ts';

export const COMPARED_COLUMNS = [
  'step',
  'calc_en',
  'valid_o',
  'ready_i',
  'busy',
  'start',
  'last_inner_tile',
  'inp_valid',
  'inp_ready',
  'w_valid',
  'w_ready',
  'data_hex',
] as const;

/** The model's row for the compared columns. */
export function modelRow(dut: Ita): string[] {
  const ctl = dut.i_controller;
  let hex = '';
  if (dut.valid_o)
    for (let i = 0; i < dut.oup_o.length; i++) hex += (dut.oup_o[i]! & 0xff).toString(16).padStart(2, '0');
  return [
    STEP_NAMES[ctl.step_o]!,
    String(ctl.calc_en_o),
    String(dut.valid_o),
    String(dut.ready_i),
    String(dut.busy_o),
    String(dut.ctrl_i.start),
    String(ctl.last_inner_tile_o),
    String(dut.inp_valid_i),
    String(dut.inp_ready_o),
    String(dut.inp_weight_valid_i),
    String(dut.inp_weight_ready_o),
    hex,
  ];
}

export interface CycleDiff {
  rows: number;
  mismatchedRows: number;
  first: string | null;
  /** Mismatches per column. */
  perColumn: Record<string, number>;
}

/** Collects per-cycle rows of the model and compares them to the trace text at the end. */
export class CycleComparer {
  private readonly cols: number[];
  private readonly ref: string[][];
  readonly diff: CycleDiff;
  constructor(traceText: string) {
    const lines = traceText.split('\n').filter((l) => l.length > 0);
    const head = lines[0]!.split(',');
    this.cols = COMPARED_COLUMNS.map((c) => head.indexOf(c));
    this.ref = lines.slice(1).map((l) => l.split(','));
    this.diff = { rows: this.ref.length, mismatchedRows: 0, first: null, perColumn: {} };
  }
  /** Observer for `RunOptions.observe`. */
  observe = (cycle: number, dut: Ita): void => {
    const r = this.ref[cycle];
    if (!r) return;
    const mine = modelRow(dut);
    let bad = false;
    for (let k = 0; k < COMPARED_COLUMNS.length; k++) {
      const ci = this.cols[k]!;
      if (ci < 0) continue;
      if (r[ci] !== mine[k]) {
        bad = true;
        const name = COMPARED_COLUMNS[k]!;
        this.diff.perColumn[name] = (this.diff.perColumn[name] ?? 0) + 1;
        if (!this.diff.first) this.diff.first = `cycle ${cycle} ${name}: model ${mine[k]}, RTL ${r[ci]}`;
      }
    }
    if (bad) this.diff.mismatchedRows++;
  };
}
