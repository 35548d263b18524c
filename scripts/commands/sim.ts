/**
 * `itasim sim`: runs the cycle-level ITA model.
 * - `--from <folder>`: a PyITA reference folder through the standalone testbench (as `ita_tb.sv`),
 *   one head (`--head n`, default 0) or all (`--head all`), every output word checked;
 *   `--layer attention|feedforward` runs the testbench's default flow (attention layer, then
 *   feed-forward layer), `--layer linear|single-attention` its single-step flow (`SINGLE_ATTENTION`).
 * - `--random --layer <l> --tiles ts,te,tp,tf`: one layer on random data (no reference check), to
 *   measure timing for any tile counts.
 * Stalls: `--stall-prob p --seed n` flips seeded coins for input valid, weight valid and output
 * ready every cycle; `--stall-trace file` replays the coins of an RTL per-cycle trace (and compares
 * the model with it cycle by cycle when the trace has the data columns).
 * Prints total cycles, cycles per step, stall cycles by cause, dot-product utilisation and the
 * verdict, or with `--json` the same per layer run (and head) as JSON.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { progressBar, type Progress } from '../progress.ts';
import { InputError, SEED_MAX, checkInt } from '../../rtl-model/errors.ts';
import { checkFileOutputs, writeFileAtomic } from '../../golden/atomic.ts';
// A random run needs neither the testbench nor the folder readers: those modules (and the golden
// model's parsers they pull in) are loaded only for a folder run, to keep the start-up short.
import { runRandom, traceCsv } from '../../rtl-model/ita/run_random.ts';
import type { RunOptions, RunResult } from '../../rtl-model/ita/run_random.ts';
import { ACTIVATION_NAMES, LAYER_NAMES } from '../../rtl-model/ita/params.ts';
import type { FolderFiles } from '../../rtl-model/ita/standalone.ts';
import { NO_STALLS, parseCycleTrace, randomStalls, replayStalls } from '../../rtl-model/ita/stalls.ts';
import type { StallSource } from '../../rtl-model/ita/stalls.ts';
import type { CycleDiff } from '../../rtl-model/ita/cycle_compare.ts';
import { resolve } from 'node:path';

export interface SimOptions {
  from?: string;
  random?: boolean;
  layer?: string;
  head?: string;
  tiles?: string;
  activation?: string;
  stallProb?: string;
  seed?: string;
  stallTrace?: string;
  vcd?: string;
  lineTrace?: boolean;
  json?: boolean;
  traceCsv?: string;
}

/** One simulated run (a head of a folder, or a random layer) as reported. */
export interface SimReport {
  head?: number;
  /** Every output word as expected (and every cycle, with a per-cycle trace); null: nothing checked. */
  pass: boolean | null;
  cycles: number;
  computeCycles: number;
  outputHandshakes: number;
  cyclesPerStep: Record<string, number>;
  stalls: RunResult['stalls'];
  dotpUtilisation: number;
  mismatches: number;
  firstMismatch: string | null;
  layers: RunResult['layers'];
  cycleCompare?: CycleDiff;
}

function parseNumber(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InputError(`${name} must be a number, got '${v}'`);
  return n;
}

function parseTiles(v: string | undefined): { s: number; e: number; p: number; f: number } {
  if (!v) throw new InputError('--random needs --tiles ts,te,tp,tf (four tile counts, e.g. 1,1,1,1)');
  const parts = v.split(',').map((x) => x.trim());
  if (parts.length !== 4)
    throw new InputError(`--tiles must be four comma-separated tile counts ts,te,tp,tf, got '${v}'`);
  const [s, e, p, f] = parts.map((n, i) => checkInt(`--tiles ${['ts', 'te', 'tp', 'tf'][i]}`, n, 1, 32)) as [
    number,
    number,
    number,
    number,
  ];
  return { s, e, p, f };
}

function toReport(r: RunResult, checked: boolean, head?: number, cmp?: CycleDiff): SimReport {
  const bad = r.mismatches > 0 || (cmp !== undefined && cmp.mismatchedRows > 0);
  return {
    ...(head !== undefined ? { head } : {}),
    pass: !checked && !cmp ? null : !bad,
    cycles: r.cycles,
    computeCycles: r.computeCycles,
    outputHandshakes: r.outputHandshakes,
    cyclesPerStep: r.cyclesPerStep,
    stalls: r.stalls,
    dotpUtilisation: Number(r.dotpUtilisation.toFixed(4)),
    mismatches: r.mismatches,
    firstMismatch: r.firstMismatch,
    layers: r.layers,
    ...(cmp ? { cycleCompare: cmp } : {}),
  };
}

/** The reference folder run when neither --from nor --random is given (checked in, 64^3, GELU). */
export const DEFAULT_FOLDER = 'S64_E64_P64_F64_H1_gelu_seed1';

/**
 * The files of the folder to run and a name that carries its sizes, read from its contents (the
 * folder's name is only a cross-check, see `folder-name.ts`). Without a folder, the built-in default.
 */
async function folderToRun(from: string | undefined): Promise<{ files: FolderFiles; name: string }> {
  if (from === undefined) {
    const { loadGolden } = await import('../../golden/archive.ts');
    return { files: loadGolden(`pyita/${DEFAULT_FOLDER}`), name: DEFAULT_FOLDER };
  }
  const [{ loadFolderFromDisk }, { folderSizes }, { checkStandaloneStreams }] = await Promise.all([
    import('../../rtl-model/ita/standalone.ts'),
    import('../folder-name.ts'),
    import('../../golden/validate.ts'),
  ]);
  const files = await loadFolderFromDisk(resolve(from));
  const { sizes, name } = folderSizes(from);
  checkStandaloneStreams(files, sizes, from);
  return { files, name };
}

/**
 * Runs what the options ask for; returns one report per run (exported for tests). `show` gets
 * the reports before `--trace-csv` is written.
 */
export async function simulate(
  o: SimOptions,
  log: (line: string) => void = () => {},
  show: (reports: SimReport[]) => void = () => {},
): Promise<{ reports: SimReport[]; results: RunResult[] }> {
  if (o.random && o.from) throw new InputError('use either --from <folder> or --random, not both');
  // Flags of the other mode are refused, not ignored.
  if (!o.random)
    for (const [flag, v] of [
      ['--tiles', o.tiles],
      ['--activation', o.activation],
    ] as const)
      if (v !== undefined)
        throw new InputError(
          `${flag} applies to --random only (a folder's files fix its sizes and activation)`,
        );
  if (o.random && o.head !== undefined)
    throw new InputError('--head applies to a folder (--from), not to --random');
  checkFileOutputs({ '--vcd': o.vcd, '--trace-csv': o.traceCsv });
  const layer = o.layer ?? 'attention';
  const layerIdx = (LAYER_NAMES as readonly string[]).indexOf(layer);
  if (layerIdx < 0) throw new InputError(`--layer must be one of ${LAYER_NAMES.join(', ')}, got '${layer}'`);
  const prob = parseNumber('--stall-prob', o.stallProb, 0);
  if (!(prob >= 0 && prob < 1)) throw new InputError(`--stall-prob must be in [0, 1), got '${o.stallProb}'`);
  const seed = checkInt('--seed', o.seed ?? 1, 0, SEED_MAX);
  if (o.stallTrace && o.stallProb !== undefined)
    throw new InputError('use either --stall-trace or --stall-prob, not both');
  let traceText: string | undefined;
  if (o.stallTrace) {
    if (o.random) throw new InputError('--stall-trace replays the standalone testbench; use it with --from');
    try {
      traceText = readFileSync(o.stallTrace, 'utf8');
    } catch {
      throw new InputError(`--stall-trace: cannot read ${o.stallTrace}`);
    }
    // Checked before the run: an empty or malformed trace is refused, never run as no stalls.
    parseCycleTrace(traceText, `--stall-trace: ${o.stallTrace}`);
  }
  const stallsFor = (k: number): StallSource =>
    traceText !== undefined
      ? replayStalls(parseCycleTrace(traceText, `--stall-trace: ${o.stallTrace}`))
      : prob > 0
        ? randomStalls(seed + k, prob)
        : NO_STALLS;

  // Progress (not with a line per cycle): outputs of the total expected and cycles, or only cycles
  // for a random run, whose length is not known beforehand.
  let bar: Progress | null = null;
  let label = 'sim';
  const progress = (cycle: number, outputs: number, expected: number): void => {
    if (expected > 0) {
      bar ??= progressBar(label, expected, ' outputs');
      bar.update(outputs, `cycle ${cycle}`);
    } else {
      bar ??= progressBar(label, 0, ' cycles');
      bar.update(cycle);
    }
  };
  const endBar = (): void => {
    bar?.stop();
    bar = null;
  };
  const runOpts = (extra: Partial<RunOptions>): RunOptions => ({
    ...(o.vcd ? { vcd: o.vcd } : {}),
    ...(o.lineTrace ? { lineTrace: log } : { progress }),
    ...extra,
  });

  const reports: SimReport[] = [];
  const results: RunResult[] = [];
  try {
    if (o.random) {
      const tiles = parseTiles(o.tiles);
      const act = (ACTIVATION_NAMES as readonly string[]).indexOf(o.activation ?? 'identity');
      if (act < 0)
        throw new InputError(
          `--activation must be one of ${ACTIVATION_NAMES.join(', ')}, got '${o.activation}'`,
        );
      const r = runRandom(
        { layer: layerIdx, tiles, activation: act, seed },
        runOpts({ stalls: stallsFor(0) }),
      );
      reports.push(toReport(r, false));
      results.push(r);
    } else {
      const [{ files, name }, { dimsFromName }, { runFolder }, { CycleComparer }] = await Promise.all([
        folderToRun(o.from),
        import('../../rtl-model/ita/standalone.ts'),
        import('../../rtl-model/ita/run.ts'),
        import('../../rtl-model/ita/cycle_compare.ts'),
      ]);
      const dims = dimsFromName(name);
      let heads: number[];
      if (o.head === undefined) heads = [0];
      else if (o.head === 'all') heads = Array.from({ length: dims.H }, (_, h) => h);
      else heads = [checkInt('--head', o.head, 0, dims.H - 1)];
      if (heads.length > 1 && (o.vcd || o.traceCsv || traceText))
        throw new InputError('--vcd, --trace-csv and --stall-trace need a single --head');
      const flow = layer === 'linear' || layer === 'single-attention' ? 'single' : 'layers';
      for (const h of heads) {
        label = heads.length > 1 ? `sim head ${h}` : 'sim';
        endBar();
        const cmp = traceText?.includes('data_hex') ? new CycleComparer(traceText) : undefined;
        const extra: Partial<RunOptions> = { stalls: stallsFor(h) };
        if (cmp) {
          extra.observe = cmp.observe;
          extra.minCycles = cmp.diff.rows;
        }
        const r = runFolder(files, name, h, runOpts(extra), flow);
        reports.push(toReport(r, true, h, cmp?.diff));
        results.push(r);
      }
    }
  } finally {
    endBar();
  }
  // The reports are shown before the trace is written, so that a failed write does not hide them.
  show(reports);
  if (o.traceCsv) writeFileAtomic(o.traceCsv, traceCsv(results[0]!), '--trace-csv');
  return { reports, results };
}

function printReport(rep: SimReport, log: (s: string) => void): void {
  const head = rep.head !== undefined ? ` (head ${rep.head})` : '';
  log(
    `verdict${head}: ${rep.pass === null ? 'NO CHECK' : rep.pass ? 'PASS' : 'FAIL'}${rep.mismatches ? ` (${rep.mismatches} wrong words; first: ${rep.firstMismatch})` : ''}`,
  );
  log(`  total cycles        ${rep.cycles}`);
  log(`  compute cycles      ${rep.computeCycles}`);
  log(`  output handshakes   ${rep.outputHandshakes}`);
  log(`  dotp utilisation    ${(rep.dotpUtilisation * 100).toFixed(1)} % of non-Idle cycles`);
  log(
    `  cycles per step     ${Object.entries(rep.cyclesPerStep)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  const s = rep.stalls;
  log(
    `  stall cycles        softmax division ${s.softmaxDiv}, output credit ${s.outputCredit}, softmax FIFO ${s.softmaxFifo}, no input ${s.noInput}, no weight ${s.noWeight}; output not ready ${s.outputNotReady}`,
  );
  for (const l of rep.layers) {
    log(
      `  layer ${l.layer.padEnd(16)} start@${l.startCycle} compute ${l.computeCycles}, first output edge ${l.firstOutputEdge}, last ${l.lastOutputEdge}, handshakes ${l.outputHandshakes}`,
    );
  }
  if (rep.cycleCompare) {
    const c = rep.cycleCompare;
    log(
      `  per-cycle compare   ${c.rows} rows, ${c.mismatchedRows} differ${c.first ? ` (first: ${c.first})` : ''}`,
    );
  }
}

/** Defines `itasim sim` (its flags and action) on the command `index.ts` names and describes. */
export function register(cmd: Command): void {
  cmd
    .option(
      '--from <folder>',
      `PyITA reference folder (with standalone/) to stream through the testbench (default: the built-in ${DEFAULT_FOLDER})`,
    )
    .option('--random', 'random data instead of a folder (needs --layer and --tiles)')
    .option('--layer <layer>', `layer: ${LAYER_NAMES.join(', ')} (default attention)`)
    .option('--head <n>', 'head of the folder to run, or "all" (default 0, as ita_tb)')
    .option('--tiles <ts,te,tp,tf>', 'tile counts S/64, E/64, P/64, F/64 for --random')
    .option('--activation <act>', `activation for --random: ${ACTIVATION_NAMES.join(', ')}`)
    .option('--stall-prob <p>', 'probability that each valid/ready coin says stall, in [0, 1)')
    .option('--seed <n>', `seed of the stall coins and random data (0..${SEED_MAX}, default 1)`)
    .option(
      '--stall-trace <file>',
      'replay the valid/ready coins of an RTL per-cycle trace (rtl-traces/per-cycle format)',
    )
    .option('--vcd <file>', 'write a VCD of every register and port (RTL hierarchical names)')
    .option('--line-trace', 'print one line per cycle')
    .option('--json', 'print the result as JSON')
    .option('--trace-csv <file>', 'write the output handshakes in the RTL trace format (edge,event,data)')
    .action(async (opts: SimOptions) => {
      // a closed pipe (`| head`) ends the output quietly
      process.stdout.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'EPIPE') process.exit(0);
        throw e;
      });
      const out = (s: string): void => {
        process.stdout.write(s + '\n');
      };
      const { reports } = await simulate(opts, out, (reps) => {
        if (opts.json) out(JSON.stringify(reps.length === 1 ? reps[0] : reps, null, 2));
        else for (const r of reps) printReport(r, out);
      });
      if (reports.some((r) => r.pass === false)) process.exitCode = 1;
    });
}
