/**
 * Simulated cycles per second of the cycle-level ITA model on attention layers with random data
 * (`itasim sim --random`: the model plus its stimulus bench, like a Verilated RTL with a
 * SystemVerilog random-data testbench). Every simulated clock cycle counts, including the bench's
 * lead-in that fills the weight buffer before `start`. Each case runs repeatedly for about two seconds after an
 * untimed warm-up run; the table shows the wall-clock rate and the rate per CPU second (the latter
 * is steadier on a shared machine).
 */
import { runRandom } from '../../rtl-model/ita/run.ts';
import { Layer } from '../../rtl-model/ita/params.ts';

export const title = 'cycle-level ITA model: simulated cycles per second (attention, random data)';

const CASES = [
  { label: 'attention S=64 E=64 P=64', tiles: { s: 1, e: 1, p: 1, f: 1 } },
  { label: 'attention S=256 E=256 P=128', tiles: { s: 4, e: 4, p: 2, f: 1 } },
];

/** Rate of the Verilated RTL with a random-data SystemVerilog testbench on this machine (issue 8). */
const VERILATOR_CYCLES_PER_S = 42_000;

function row(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
}

export function run(): void {
  const widths = [28, 10, 6, 7, 13, 13, 10];
  console.log(
    row(['case', 'cycles/run', 'runs', 'wall s', 'cycles/s wall', 'cycles/s CPU', 'x Verilator'], widths),
  );
  for (const c of CASES) {
    const one = (): number => runRandom({ layer: Layer.Attention, tiles: c.tiles }).simCycles;
    one(); // warm-up (JIT)
    let cycles = 0;
    let runs = 0;
    let perRun = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    while (performance.now() - t0 < 2000 || runs < 2) {
      perRun = one();
      cycles += perRun;
      runs++;
    }
    const wall = (performance.now() - t0) / 1000;
    const cpuU = process.cpuUsage(cpu0);
    const cpu = (cpuU.user + cpuU.system) / 1e6;
    const rate = cycles / wall;
    console.log(
      row(
        [
          c.label,
          String(perRun),
          String(runs),
          wall.toFixed(2),
          rate.toFixed(0),
          (cycles / cpu).toFixed(0),
          (rate / VERILATOR_CYCLES_PER_S).toFixed(1),
        ],
        widths,
      ),
    );
  }
}
