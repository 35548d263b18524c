/**
 * Deliberate faults for checking that the fuzzer finds and shrinks real datapath bugs. A fault is
 * applied to one module instance of one constructed `Ita` (its method is wrapped), so the model's
 * code stays untouched; only `itasim fuzz --inject <name>` and the fuzz tests use them.
 */
import { InputError } from '../rtl-model/errors.ts';
import { sra } from '../rtl-model/sim/bits.ts';
import type { Ita } from '../rtl-model/ita/ita.ts';

export interface Injection {
  name: string;
  description: string;
  apply(dut: Ita): void;
}

/** Requantiser lane whose rounding bit is dropped by `requant-round-lane5`. */
const ROUND_LANE = 5;

export const INJECTIONS: Injection[] = [
  {
    name: 'requant-round-lane5',
    description:
      'requantiser stage 1 on lane 5 truncates (arithmetic shift) instead of rounding half up: the bit shifted out last is not added',
    apply(dut) {
      const rq = dut.i_requantizer;
      const update = rq.update.bind(rq);
      rq.update = (): void => {
        update();
        if (rq.calc_en_i && rq.right_shift_i > 0) {
          rq.shifted_q.next()[ROUND_LANE] = sra(rq.eps_mult_i * rq.result_i[ROUND_LANE]!, rq.right_shift_i);
        }
      };
    },
  },
  {
    name: 'acc-lane3-plus1',
    description:
      'accumulator result on lane 3 is one too large whenever it is not zero (an off-by-one on one lane)',
    apply(dut) {
      const rq = dut.i_requantizer;
      const update = rq.update.bind(rq);
      rq.update = (): void => {
        if (rq.calc_en_i && rq.result_i[3] !== 0) {
          const saved = rq.result_i[3]!;
          rq.result_i[3] = saved + 1;
          update();
          rq.result_i[3] = saved;
        } else update();
      };
    },
  },
];

export function injectionByName(name: string): Injection {
  const i = INJECTIONS.find((x) => x.name === name);
  if (!i)
    throw new InputError(`--inject '${name}' is unknown; known: ${INJECTIONS.map((x) => x.name).join(', ')}`);
  return i;
}

/** Applies the named fault to a constructed ITA. */
export function applyInjection(dut: Ita, name: string): void {
  injectionByName(name).apply(dut);
}
