/**
 * `itasim hwpe --from <folder>`: runs the HWPE wrapper testbench (as `src/hwpe/tb/ita_hwpe_tb.sv`
 * with `tb_dummy_memory.sv`, 32 ports of 32 bits, no memory stalls) on a PyITA reference folder:
 * loads `hwpe/mem.txt`, runs every job, and compares the output images Q K V QK AV OW F1 F2 (and
 * the core's streamed softmax A) with the folder, word by word. Prints the job table (trigger,
 * start, done, event and busy-fall edges, memory beats and port grants) and, when the folder has
 * a checked-in RTL trace, whether the job table and event log equal the RTL's.
 * `--jobs-csv` / `--events-csv` write them in the RTL trace format; `--vcd` dumps every register
 * and port; `--line-trace` prints one line per cycle; `--port-bits 64` uses 16 ports of 64 bits (the
 * cluster's configuration; the RTL trace comparison then differs only in the port-grant counts); `--json` prints the report as JSON. Exit code 0 when every image is bit-exact, 1 on a
 * mismatch, 2 on bad input.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { progressBar } from '../progress.ts';
import { checkFileOutputs, writeFileAtomic } from '../../golden/atomic.ts';
import { loadGolden, text } from '../../golden/archive.ts';
import type { FolderFiles } from '../../rtl-model/hwpe/tb.ts';
import { eventsCsv, jobsCsv, runHwpeFolder } from '../../rtl-model/hwpe/run.ts';
import { InputError } from '../../rtl-model/errors.ts';
import { folderSizes } from '../folder-name.ts';
import { checkHwpeImages } from '../../golden/validate.ts';

export interface HwpeCliOptions {
  from?: string;
  vcd?: string;
  json?: boolean;
  jobsCsv?: string;
  eventsCsv?: string;
  lineTrace?: boolean;
  portBits?: string;
}

/** A job-table row with camelCase keys (the RTL trace's columns are snake_case), as every JSON here. */
function camelKeys(row: object): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(row).map(([k, v]) => [k.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase()), v]),
  );
}

/** Compares a CSV with the checked-in RTL trace of the same name, if there is one. */
function compareWithRtl(
  name: string,
  kind: 'jobs' | 'events',
  mine: string,
): { rtl: boolean; equal: boolean; firstDiff: string | null } {
  let ref: string;
  try {
    const traces = loadGolden('rtl-traces');
    const key = `hwpe/${name}.${kind}.csv`;
    if (!traces.has(key)) return { rtl: false, equal: false, firstDiff: null };
    ref = text(traces, key);
  } catch {
    return { rtl: false, equal: false, firstDiff: null };
  }
  if (ref === mine) return { rtl: true, equal: true, firstDiff: null };
  const a = ref.split('\n');
  const b = mine.split('\n');
  const i = a.findIndex((l, k) => l !== b[k]);
  return { rtl: true, equal: false, firstDiff: `line ${i + 1}: RTL "${a[i] ?? ''}", model "${b[i] ?? ''}"` };
}

/** The files the HWPE testbench reads: the folder's constants and its `hwpe/` images. */
export function loadHwpeFolder(dir: string): FolderFiles {
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory())
    throw new InputError(`--from: ${dir} is not a directory`);
  const hw = join(dir, 'hwpe');
  if (!statSync(hw, { throwIfNoEntry: false })?.isDirectory())
    throw new InputError(`--from: ${dir} has no hwpe/ folder`);
  const out: FolderFiles = new Map();
  for (const n of readdirSync(dir)) if (n.endsWith('.txt')) out.set(n, readFileSync(join(dir, n)));
  for (const n of readdirSync(hw)) if (n.endsWith('.txt')) out.set(`hwpe/${n}`, readFileSync(join(hw, n)));
  return out;
}

export async function runHwpeCommand(
  o: HwpeCliOptions,
  log: (s: string) => void = console.log,
): Promise<number> {
  if (!o.from) throw new InputError('--from <folder> is required (a PyITA reference folder)');
  const portBits = o.portBits === undefined ? 32 : Number(o.portBits);
  if (portBits !== 32 && portBits !== 64)
    throw new InputError(`--port-bits must be 32 or 64, got '${o.portBits}'`);
  checkFileOutputs({ '--vcd': o.vcd, '--jobs-csv': o.jobsCsv, '--events-csv': o.eventsCsv });
  const dir = resolve(o.from);
  const files = loadHwpeFolder(dir);
  const { sizes, name } = folderSizes(o.from);
  checkHwpeImages(files, sizes, o.from);
  const bar = o.lineTrace ? null : progressBar('hwpe', 0, ' cycles');
  let r;
  try {
    r = runHwpeFolder(files, name, {
      memDataWidth: portBits,
      ...(o.vcd ? { vcd: o.vcd } : {}),
      ...(o.lineTrace ? { lineTrace: log } : {}),
      ...(bar ? { progress: (c: number) => bar.update(c) } : {}),
    });
  } finally {
    bar?.stop();
  }
  const jobs = jobsCsv(r.jobs);
  const events = eventsCsv(r.events);
  const rtlJobs = compareWithRtl(name, 'jobs', jobs);
  const rtlEvents = compareWithRtl(name, 'events', events);
  if (o.json) {
    log(
      JSON.stringify(
        {
          folder: name,
          pass: r.pass,
          cycles: r.cycles,
          images: r.images,
          jobs: r.jobs.map(camelKeys),
          rtlJobTable: rtlJobs.rtl ? { equal: rtlJobs.equal, firstDiff: rtlJobs.firstDiff } : null,
          rtlEventLog: rtlEvents.rtl ? { equal: rtlEvents.equal, firstDiff: rtlEvents.firstDiff } : null,
        },
        null,
        2,
      ),
    );
  } else {
    log(`${name}: ${r.jobs.length} jobs, ${r.cycles} cycles`);
    log(jobs.trimEnd());
    for (const i of r.images) {
      log(
        `  ${i.name.padEnd(3)} ${String(i.words).padStart(6)} words  ${i.mismatches === 0 ? 'bit-exact' : `${i.mismatches} mismatches, first: ${i.first}`}`,
      );
    }
    if (rtlJobs.rtl) log(`  RTL job table: ${rtlJobs.equal ? 'equal' : `differs at ${rtlJobs.firstDiff}`}`);
    if (rtlEvents.rtl)
      log(`  RTL event log: ${rtlEvents.equal ? 'equal' : `differs at ${rtlEvents.firstDiff}`}`);
    log(r.pass ? 'PASS' : 'FAIL');
  }
  // Written after the results are printed, so that a failed write does not hide them.
  if (o.jobsCsv) writeFileAtomic(o.jobsCsv, jobs, '--jobs-csv');
  if (o.eventsCsv) writeFileAtomic(o.eventsCsv, events, '--events-csv');
  return r.pass ? 0 : 1;
}

/** Defines `itasim hwpe` (its flags and action) on the command `index.ts` names and describes. */
export function register(cmd: Command): void {
  cmd
    .requiredOption('--from <folder>', 'PyITA reference folder (with hwpe/mem.txt and the expected images)')
    .option('--vcd <file>', 'write a VCD of every register and port (RTL hierarchical names)')
    .option('--json', 'print the report as JSON')
    .option(
      '--port-bits <n>',
      'memory port width: 32 (32 ports, as the RTL testbench; default) or 64 (16 ports)',
    )
    .option('--line-trace', 'print one line per cycle (controller, streamers, memory port, core)')
    .option('--jobs-csv <file>', 'write the job table (format of rtl-traces/hwpe/<folder>.jobs.csv)')
    .option('--events-csv <file>', 'write the event log (format of rtl-traces/hwpe/<folder>.events.csv)')
    .action(async (o: HwpeCliOptions) => {
      process.exitCode = await runHwpeCommand(o);
    });
}
