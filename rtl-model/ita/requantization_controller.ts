/** `ita_requatization_controller`: picks the requantisation constants of the step in flight. */
import { Module } from '../sim/kernel.ts';
import { Step } from './params.ts';
import type { CtrlI } from './params.ts';

/** Index into the eight-entry constant arrays per step (Q K V QK AV OW F1 F2; others use 0). */
const CONST_IDX = [0, 0, 1, 2, 3, 4, 5, 6, 7, 0];

export class ItaRequantizationController extends Module {
  ctrl_i!: CtrlI;
  requantizer_step_i: number = Step.Idle;
  requant_mult_o = 0;
  requant_shift_o = 0;
  requant_add_o = 0;
  constructor(parent: Module) {
    super(parent, 'i_requantization_controller');
    this.port('requant_mult_o', 8, () => this.requant_mult_o);
    this.port('requant_shift_o', 8, () => this.requant_shift_o);
    this.port('requant_add_o', 8, () => this.requant_add_o);
  }
  override evaluate(): void {
    const k = CONST_IDX[this.requantizer_step_i]!;
    this.requant_mult_o = this.ctrl_i.eps_mult[k]!;
    this.requant_shift_o = this.ctrl_i.right_shift[k]!;
    this.requant_add_o = this.ctrl_i.add[k]!;
  }
}
