/**
 * Runs the cycle model: a reference folder through the standalone testbench (`runFolder`), or one
 * layer on random data (`runRandom`, with the shared options, results and recorder in
 * `run_random.ts`, re-exported here).
 */
import { Simulator } from '../sim/kernel.ts';
import { Ita } from './ita.ts';
import { ItaTb, PHASE_RUN, loadStimuli } from './tb.ts';
import type { TbFlow } from './tb.ts';
import type { FolderFiles } from './standalone.ts';
import { NO_STALLS } from './stalls.ts';
import { Recorder, attachObservers, clock } from './run_random.ts';
import type { RunOptions, RunResult } from './run_random.ts';

export * from './run_random.ts';

/** Runs one head of a reference folder through the standalone testbench. */
export function runFolder(
  files: FolderFiles,
  folderName: string,
  head = 0,
  opts: RunOptions = {},
  flow: TbFlow = 'layers',
): RunResult {
  const st = loadStimuli(files, folderName, head);
  const dut = new Ita(opts.params);
  const tb = new ItaTb(dut, st, opts.stalls ?? NO_STALLS, flow);
  const sim = new Simulator(dut);
  sim.reset();
  const rec = new Recorder(dut);
  const phaseRun = PHASE_RUN[flow];
  rec.outputRun = () => phaseRun[tb.checkerPhase] ?? -1;
  sim.onCycle((c) => {
    rec.observe(c);
    tb.sample(c);
  });
  const vcd = attachObservers(sim, dut, opts);
  const expected = tb.expectedOutputs;
  clock(
    sim,
    vcd,
    opts,
    rec,
    (c) => tb.drive(c),
    () => tb.done,
    () => [tb.outputsTaken, expected],
  );
  const r = rec.result(tb.doneCycle);
  r.simCycles = sim.cycle;
  r.mismatches = tb.log.mismatches;
  r.firstMismatch = tb.log.firstMismatch;
  return r;
}
