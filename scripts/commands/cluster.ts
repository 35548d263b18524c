/**
 * `itasim cluster run <elf>`: runs a bare-metal RV32 program on the cycle-level Snitch cluster
 * until it writes `tohost`, then prints cycles, per-core instructions and IPC, stall cycles by
 * cause and DMA traffic. The process exit code is the program's (HTIF `tohost` convention),
 * saturated at 255.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { checkFileOutputs, writeFileAtomic } from '../../golden/atomic.ts';
import { runItaSystem, type ItaSystemResult } from '../../rtl-model/cluster/ita_system.ts';
import type { ItaSubsystem } from '../../rtl-model/cluster/ita_subsystem.ts';
import { loadHwpeFolder } from './hwpe.ts';
import { folderSizes } from '../folder-name.ts';
import { checkHwpeImages } from '../../golden/validate.ts';
import { Cluster, DEFAULT_CLUSTER, HARNESS_DRAM_LATENCY } from '../../rtl-model/cluster/cluster.ts';
import { checkInt, InputError } from '../../rtl-model/errors.ts';
import type { Probe } from '../../rtl-model/sim/kernel.ts';
import { VcdWriter } from '../../rtl-model/sim/vcd.ts';
import { progressBar } from '../progress.ts';
import { Stall } from '../../rtl-model/snitch/core.ts';

export interface ClusterRunOptions {
  maxCycles: number;
  trace: string[];
  vcd?: string;
  dramLatency: number;
  idealFetch: boolean;
  json?: boolean;
}

export interface CoreReport {
  core: string;
  hart: number;
  instructions: number;
  ipc: number;
  stalls: Record<string, number>;
}

export interface ClusterReport {
  cycles: number;
  finished: boolean;
  /** Why the run ended: the program wrote tohost, --max-cycles, or a trap into itself. */
  stopped: 'tohost' | 'maxCycles' | 'trapLoop';
  /** True when the statistics cover a run cut off before its end. */
  partial: boolean;
  /** Exceptions taken by any core: how many, and the first. */
  traps: { count: number; first: TrapReport | null };
  exitCode: number;
  cores: CoreReport[];
  dmaBytes: number;
  dmaTransfers: number;
  /** Instruction cache: L1 refills from DRAM, and L0 misses and prefetches per hart. */
  icache: { refills: number; l0Misses: number[]; l0Prefetches: number[] };
}

/** The stall causes reported: JSON key, column label, counter. */
const CAUSES: [string, string, (c: Cluster, i: number) => number][] = [
  ['dependency', 'dependency', (c, i) => c.cores[i]!.nStall[Stall.Dependency]!.value],
  ['bankConflict', 'bank conflict', (c, i) => c.tcdm.ports[i]!.conflicts],
  [
    'lsuFull',
    'lsu full',
    (c, i) => c.cores[i]!.nStall[Stall.Lsu]!.value + c.cores[i]!.nStall[Stall.Fence]!.value,
  ],
  ['mulDiv', 'mul/div', (c, i) => c.cores[i]!.nStall[Stall.Offload]!.value],
  ['fetchRefill', 'fetch: refill', (c, i) => c.fetchStallRefill[i]!],
  ['fetchL1', 'fetch: L1', (c, i) => c.cores[i]!.nStall[Stall.Fetch]!.value - c.fetchStallRefill[i]!],
  ['barrier', 'barrier', (c, i) => c.cores[i]!.nStall[Stall.Barrier]!.value],
  ['wfi', 'wfi', (c, i) => c.cores[i]!.nStall[Stall.Wfi]!.value],
];

/** Summary of a finished (or stopped) run. */
export function report(
  c: Cluster,
  cycles: number,
  finished: boolean,
  exitCode: number,
  traps: TrapWatch = { count: 0, first: null, loop: null },
): ClusterReport {
  const cores: CoreReport[] = c.cores.map((core, i) => {
    const stalls: Record<string, number> = {};
    for (const [key, , f] of CAUSES) stalls[key] = f(c, i);
    const n = core.nInstr.value;
    return {
      core: i === c.cores.length - 1 ? `dma core (${i})` : `core ${i}`,
      hart: i,
      instructions: n,
      ipc: cycles ? n / cycles : 0,
      stalls,
    };
  });
  return {
    cycles,
    finished,
    stopped: finished ? 'tohost' : traps.loop ? 'trapLoop' : 'maxCycles',
    partial: !finished,
    traps: { count: traps.count, first: traps.first },
    exitCode,
    cores,
    dmaBytes: c.dma.nBytes.value,
    dmaTransfers: c.dma.nTransfers.value,
    icache: {
      refills: c.icache.nRefills.value,
      l0Misses: c.icache.l0.map((l) => l.nMiss.value),
      l0Prefetches: c.icache.l0.map((l) => l.nPrefetch.value),
    },
  };
}

export function formatReport(r: ClusterReport): string {
  const lines: string[] = [];
  const stop = { tohost: '', maxCycles: ' (stopped: max cycles reached)', trapLoop: ' (stopped: trap loop)' };
  lines.push(`cycles: ${r.cycles}${stop[r.stopped]}`);
  const head = ['core', 'instr', 'IPC', ...CAUSES.map(([, label]) => label)];
  const rows = r.cores.map((c) => [
    c.core,
    String(c.instructions),
    c.ipc.toFixed(3),
    ...CAUSES.map(([key]) => String(c.stalls[key])),
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const fmt = (row: string[]) =>
    row.map((x, i) => (i === 0 ? x.padEnd(w[i]!) : x.padStart(w[i]!))).join('  ');
  lines.push(fmt(head));
  for (const row of rows) lines.push(fmt(row));
  lines.push(`dma: ${r.dmaBytes} bytes in ${r.dmaTransfers} transfers`);
  lines.push(
    `instruction cache: ${r.icache.refills} L1 refills; L0 misses ${r.icache.l0Misses.join(' ')}; prefetches ${r.icache.l0Prefetches.join(' ')}`,
  );
  if (r.traps.first) lines.push(`traps: ${r.traps.count}; first: ${describeTrap(r.traps.first)}`);
  if (r.finished) lines.push(`exit code: ${r.exitCode}`);
  return lines.join('\n');
}

/** Parses `--trace core0,core3,dma`. */
function traceUnits(c: Cluster, spec: string[]): { name: string; line: () => string }[] {
  return spec.map((s) => {
    const m = /^core(\d+)$/.exec(s);
    if (m) {
      const i = Number(m[1]);
      const core = c.cores[i];
      if (!core) throw new InputError(`--trace: core index must be 0..${c.cores.length - 1}, got '${s}'`);
      return { name: s, line: () => core.lineTrace() };
    }
    if (s === 'dma') {
      return {
        name: s,
        line: () => `dma: ${c.dma.isBusy ? 'busy' : 'idle'} ${c.dma.nBytes.value}B`,
      };
    }
    throw new InputError(`--trace: units are core0..core${c.cores.length - 1} and dma, got '${s}'`);
  });
}

export function runCluster(
  elfPath: string,
  o: ClusterRunOptions,
  out: (s: string) => void = (s) => process.stdout.write(s),
): ClusterReport {
  checkFileOutputs({ '--vcd': o.vcd });
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(elfPath);
  } catch {
    throw new InputError(`<elf>: cannot read '${elfPath}'`);
  }
  const c = Cluster.fromElf(bytes, { dramLatency: o.dramLatency, idealFetch: o.idealFetch }, elfPath);
  const units = traceUnits(c, o.trace);
  let vcd: VcdWriter | null = null;
  if (o.vcd) {
    const probes: Probe[] = [];
    for (const m of c.walk()) probes.push(...m.probes);
    vcd = new VcdWriter(o.vcd, probes);
  }
  let cycle = 0;
  const hook =
    units.length || vcd
      ? () => {
          if (vcd) vcd.sample(cycle);
          if (units.length) out(`${String(cycle).padStart(8)}  ${units.map((u) => u.line()).join(' | ')}\n`);
          cycle++;
        }
      : undefined;
  if (hook) c.simulator().onCycle(hook);
  const traps = watchTraps(c);
  // Progress in cycles (a program's length is not known); none with a per-cycle trace.
  const bar = units.length ? null : progressBar('cluster run', 0, ' cycles');
  let cycles = 0;
  let r;
  try {
    // In short stretches, so that a trap loop ends the run within a few cycles of its start.
    do {
      r = c.run(Math.min(TRAP_CHECK_CYCLES, o.maxCycles - cycles));
      cycles += r.cycles;
      if ((cycles & 4095) === 0) bar?.update(cycles);
    } while (!r.finished && traps.loop === null && cycles < o.maxCycles);
  } finally {
    bar?.stop();
    vcd?.close();
  }
  const rep = report(c, cycles, r.finished, r.exitCode, traps);
  out(o.json ? `${JSON.stringify(rep, null, 2)}\n` : `${formatReport(rep)}\n`);
  // A run that did not end by itself is said on stderr, whatever the format of the report.
  if (rep.stopped === 'trapLoop')
    process.stderr.write(
      `itasim: cluster run: stopped at cycle ${cycles}: ${describeTrap(traps.loop!)}, and its handler is that same instruction (statistics are partial)\n`,
    );
  else if (rep.stopped === 'maxCycles')
    process.stderr.write(
      `itasim: cluster run: stopped at --max-cycles ${o.maxCycles} before the program wrote tohost (statistics are partial)\n`,
    );
  return rep;
}

/** Cycles run between two looks at the traps taken. */
const TRAP_CHECK_CYCLES = 64;

/** Names of the exception causes (mcause). */
const CAUSE_NAMES: Record<number, string> = {
  0: 'instruction address misaligned',
  1: 'instruction access fault',
  2: 'illegal instruction',
  3: 'breakpoint',
  4: 'load address misaligned',
  5: 'load access fault',
  6: 'store address misaligned',
  7: 'store access fault',
  8: 'environment call from U-mode',
  9: 'environment call from S-mode',
  11: 'environment call from M-mode',
};

/** One trap: the hart, mcause and the pc of the trapping instruction. */
export interface TrapReport {
  hart: number;
  cause: number;
  causeName: string;
  pc: string;
}

function describeTrap(t: TrapReport): string {
  return `core ${t.hart} trapped (${t.causeName}, mcause ${t.cause}) at pc ${t.pc}`;
}

/** What the cores' exceptions (not interrupts) were, as the run goes. */
interface TrapWatch {
  count: number;
  first: TrapReport | null;
  /** The first trap at the address of its own handler (the core would trap there forever). */
  loop: TrapReport | null;
}

function watchTraps(c: Cluster): TrapWatch {
  const w: TrapWatch = { count: 0, first: null, loop: null };
  c.cores.forEach((core, hart) => {
    core.onTrap = (pc, cause) => {
      if (cause >= 0x80000000) return; // an interrupt
      const t: TrapReport = {
        hart,
        cause,
        causeName: CAUSE_NAMES[cause] ?? `cause ${cause}`,
        pc: `0x${pc.toString(16).padStart(8, '0')}`,
      };
      w.count++;
      w.first ??= t;
      if (w.loop === null && (core.mtvec.cur & ~3) >>> 0 === pc) w.loop = t;
    };
  });
  return w;
}

// ------------------------------------------------------------------ cluster attention

export interface AttentionOptions {
  from: string;
  vcd?: string;
  svg?: string;
  json?: boolean;
  wait: 'poll' | 'event';
  maxCycles: number;
}

/** One timeline row: name and busy intervals `[start, end)`. */
interface Lane {
  name: string;
  intervals: [number, number][];
}

export interface AttentionReport {
  folder: string;
  pass: boolean;
  cycles: number;
  jobs: number;
  issueCycles: number;
  /** Cycles from hart 0's start to the first trigger. */
  firstTrigger: number;
  itaBusy: number;
  /** Per ITA job, `[start, end)`: busy after the rising edges start .. end - 1 (RTL numbering). */
  itaBusyIntervals: [number, number][];
  itaUtilisation: number;
  /** Null when the run was cut off before the issue phase ended. */
  itaUtilisationIssue: number | null;
  itaEvents: number;
  itaStallCycles: number;
  dmaBusy: number;
  dmaBytes: number;
  dmaTransfers: number;
  coreActive: { core: string; active: number; instructions: number }[];
  bankConflicts: { cores: number; hwpe: number };
  stepCycles: Record<string, number>;
  images: { name: string; words: number; mismatches: number; first: string | null }[];
  /** True when --max-cycles cut the run off: the figures cover only the cycles run. */
  partial: boolean;
}

/** Records run-length intervals of a boolean signal sampled once per cycle. */
class LaneRecorder {
  readonly intervals: [number, number][] = [];
  private start = -1;
  sample(cycle: number, on: boolean): void {
    if (on && this.start < 0) this.start = cycle;
    else if (!on && this.start >= 0) {
      this.intervals.push([this.start, cycle]);
      this.start = -1;
    }
  }
  close(cycle: number): void {
    if (this.start >= 0) this.intervals.push([this.start, cycle]);
    this.start = -1;
  }
}

const sumIntervals = (iv: [number, number][]): number => iv.reduce((s, [a, b]) => s + b - a, 0);

/** A timeline of ITA, DMA and cores as an SVG picture. */
export function timelineSvg(title: string, cycles: number, lanes: Lane[]): string {
  const W = 1000;
  const left = 110;
  const rowH = 22;
  const top = 40;
  const h = top + lanes.length * rowH + 40;
  const x = (c: number): number => left + (c / Math.max(1, cycles)) * (W - left - 20);
  const colour = (n: string): string =>
    n.startsWith('ITA') ? '#d9480f' : n.startsWith('DMA') ? '#1971c2' : '#2f9e44';
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${h}" font-family="sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${W}" height="${h}" fill="white"/>`);
  out.push(`<text x="${left}" y="20" font-size="14">${title}</text>`);
  lanes.forEach((l, i) => {
    const y = top + i * rowH;
    const busy = sumIntervals(l.intervals);
    out.push(`<text x="8" y="${y + 14}">${l.name}</text>`);
    out.push(`<rect x="${left}" y="${y + 3}" width="${W - left - 20}" height="${rowH - 6}" fill="#f1f3f5"/>`);
    for (const [a, b] of l.intervals) {
      const w = Math.max(0.5, x(b) - x(a));
      out.push(
        `<rect x="${x(a).toFixed(2)}" y="${y + 3}" width="${w.toFixed(2)}" height="${rowH - 6}" fill="${colour(l.name)}"><title>${l.name}: ${a}-${b}</title></rect>`,
      );
    }
    out.push(
      `<text x="${W - 18}" y="${y + 14}" text-anchor="end" font-size="10" fill="#495057">${((100 * busy) / Math.max(1, cycles)).toFixed(0)}%</text>`,
    );
  });
  const yAxis = top + lanes.length * rowH + 8;
  for (let k = 0; k <= 10; k++) {
    const c = Math.round((k * cycles) / 10);
    out.push(`<line x1="${x(c)}" y1="${yAxis - 4}" x2="${x(c)}" y2="${yAxis}" stroke="#868e96"/>`);
    out.push(`<text x="${x(c)}" y="${yAxis + 14}" text-anchor="middle" font-size="10">${c}</text>`);
  }
  out.push(
    `<text x="${left}" y="${yAxis + 30}" font-size="10" fill="#495057">cycles; ITA: hwpe_busy_o, DMA: iDMA busy, cores: issuing or stalled (not asleep in wfi)</text>`,
  );
  out.push('</svg>');
  return out.join('\n') + '\n';
}

export function runAttentionCommand(o: AttentionOptions, log: (s: string) => void = console.log): number {
  checkFileOutputs({ '--vcd': o.vcd, '--svg': o.svg });
  const dir = resolve(o.from);
  const files = loadHwpeFolder(dir);
  const { sizes, name } = folderSizes(o.from);
  checkHwpeImages(files, sizes, o.from);
  const lanes: { name: string; rec: LaneRecorder; on: () => boolean }[] = [];
  let vcd: VcdWriter | null = null;
  let cycle = 0;
  let dmaBusy = 0;
  const onBuild = (c: Cluster, ita: ItaSubsystem): void => {
    lanes.push({ name: 'ITA', rec: new LaneRecorder(), on: () => ita.i_ita.busy_o === 1 });
    lanes.push({ name: 'DMA', rec: new LaneRecorder(), on: () => c.dma.isBusy });
    c.cores.forEach((core, i) =>
      lanes.push({
        name: i === c.cores.length - 1 ? `core ${i} (DMA)` : `core ${i}`,
        rec: new LaneRecorder(),
        on: () => core.stall !== Stall.Wfi,
      }),
    );
    if (o.vcd) {
      const probes: Probe[] = [];
      for (const m of c.walk()) probes.push(...m.probes);
      vcd = new VcdWriter(o.vcd, probes);
    }
  };
  const bar = progressBar('cluster attention', 0, ' cycles');
  const onCycle = (cyc: number): void => {
    if ((cyc & 4095) === 0) bar.update(cyc);
    for (const l of lanes) l.rec.sample(cyc, l.on());
    if (lanes[1]!.on()) dmaBusy++;
    vcd?.sample(cyc);
    cycle = cyc + 1;
  };
  let r: ItaSystemResult;
  try {
    r = runItaSystem(files, name, {
      waitMode: o.wait === 'event' ? 1 : 0,
      maxCycles: o.maxCycles,
      onBuild,
      onCycle,
    });
  } finally {
    bar.stop();
    (vcd as VcdWriter | null)?.close();
  }
  for (const l of lanes) l.rec.close(cycle);
  const cores = r.cluster.cores;
  let coreConf = 0;
  for (let i = 0; i < cores.length; i++) coreConf += r.cluster.tcdm.ports[i]!.conflicts;
  const hwpeConf = r.cluster.accelPorts.reduce((s, p) => s + p.conflicts, 0);
  const rep: AttentionReport = {
    folder: name,
    pass: r.pass,
    cycles: r.cycles,
    jobs: r.jobs,
    issueCycles: r.programCycles,
    firstTrigger: r.firstTrigger,
    itaBusy: r.itaBusy,
    itaBusyIntervals: r.busyIntervals,
    itaUtilisation: r.itaBusy / Math.max(1, r.cycles),
    itaUtilisationIssue: r.programCycles > 0 ? r.itaBusy / r.programCycles : null,
    itaEvents: r.itaEvents,
    itaStallCycles: r.itaStallCycles,
    dmaBusy,
    dmaBytes: r.dmaBytes,
    dmaTransfers: r.dmaTransfers,
    coreActive: cores.map((c, i) => ({
      core: i === cores.length - 1 ? `core ${i} (DMA)` : `core ${i}`,
      active: sumIntervals(lanes[2 + i]!.rec.intervals),
      instructions: c.nInstr.value,
    })),
    bankConflicts: { cores: coreConf, hwpe: hwpeConf },
    stepCycles: r.stepCycles,
    images: r.images,
    partial: !r.finished,
  };
  if (o.json) log(JSON.stringify(rep, null, 2));
  else log(formatAttention(rep));
  if (!r.finished)
    process.stderr.write(
      `itasim: cluster attention: stopped at --max-cycles ${o.maxCycles} before the program ended (statistics are partial, outputs not all written)\n`,
    );
  // Written after the report is printed, so that a failed write does not hide it.
  if (o.svg) {
    const title = `${name}: ${r.cycles} cycles, ${r.jobs} ITA jobs, ITA busy ${(100 * rep.itaUtilisation).toFixed(1)}%`;
    writeFileAtomic(
      o.svg,
      timelineSvg(
        title,
        r.cycles,
        lanes.map((l) => ({ name: l.name, intervals: l.rec.intervals })),
      ),
      '--svg',
    );
  }
  if (!r.finished) return 1;
  return rep.pass ? 0 : 1;
}

export function formatAttention(r: AttentionReport): string {
  const pct = (v: number): string => `${(100 * v).toFixed(1)}%`;
  const lines = [
    `${r.folder}: ITA attention + feed-forward on the Snitch cluster`,
    `total cycles: ${r.cycles}${r.partial ? ' (stopped at --max-cycles: every figure covers only these cycles)' : ''}; ${r.jobs} ITA jobs; ${r.itaUtilisationIssue === null ? 'issue phase not ended' : `issue phase ${r.issueCycles} cycles`}; first trigger after ${r.firstTrigger}`,
    `ITA busy: ${r.itaBusy} cycles (utilisation ${pct(r.itaUtilisation)} of the run${r.itaUtilisationIssue === null ? '' : `, ${pct(r.itaUtilisationIssue)} of the issue phase`}); ${r.itaEvents} events`,
    `ITA memory stalls: ${r.itaStallCycles} cycles with a port not granted`,
    `DMA busy: ${r.dmaBusy} cycles; ${r.dmaBytes} bytes in ${r.dmaTransfers} transfers (L2 <-> L1)`,
    `bank-conflict stalls: cores ${r.bankConflicts.cores}, ITA ports ${r.bankConflicts.hwpe}`,
    `per step (trigger to next trigger): ${Object.entries(r.stepCycles)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    'core activity (cycles not asleep, instructions):',
    ...r.coreActive.map(
      (c) => `  ${c.core.padEnd(14)} ${String(c.active).padStart(8)} ${String(c.instructions).padStart(8)}`,
    ),
    'outputs:',
    ...r.images.map(
      (i) =>
        `  ${i.name.padEnd(3)} ${i.mismatches === 0 ? 'bit-exact' : `${i.mismatches} of ${i.words} words differ; first ${i.first}`}`,
    ),
    r.pass ? 'PASS' : r.partial ? 'FAIL (stopped before the end)' : 'FAIL',
  ];
  return lines.join('\n');
}

/** Defines `itasim cluster` (its flags and action) on the command `index.ts` names and describes. */
export function register(cluster: Command): void {
  cluster
    .command('run <elf>')
    .description('Run an RV32 ELF until it writes tohost; print cycles, IPC, stalls and DMA traffic')
    .option('--max-cycles <n>', 'stop after this many cycles', '10000000')
    .option('--trace <units>', 'per-cycle trace of units, e.g. core0,core3,dma', '')
    .option('--vcd <file>', 'write a VCD of every register of the cluster')
    .option(
      '--dram-latency <n>',
      'round trip of the memory outside the cluster in cycles (9: the RTL harness; more delays every access)',
      String(DEFAULT_CLUSTER.dramLatency),
    )
    .option('--ideal-fetch', 'a perfect instruction memory instead of the instruction cache')
    .option('--json', 'print the report as JSON (cycles, exitCode, per-hart statistics)')
    .action((elf: string, opts: Record<string, string | undefined>) => {
      const maxCycles = checkInt('--max-cycles', opts.maxCycles as string, 1, 2 ** 40);
      const dramLatency = checkInt('--dram-latency', opts.dramLatency as string, HARNESS_DRAM_LATENCY, 10000);
      const trace = (opts.trace ?? '').split(',').filter((s) => s.length > 0);
      const rep = runCluster(elf, {
        maxCycles,
        trace,
        dramLatency,
        idealFetch: opts.idealFetch !== undefined,
        json: opts.json !== undefined,
        ...(opts.vcd ? { vcd: opts.vcd } : {}),
      });
      // exit status: the program's code, saturated at 255 (a wrap modulo 256 could turn a failure
      // into 0); 1 when the run stopped at --max-cycles without writing tohost
      process.exitCode = rep.finished ? Math.min(rep.exitCode, 255) : 1;
    });
  cluster
    .command('attention')
    .description(
      'Run attention and feed-forward of a PyITA folder on the cluster with ITA attached; check every output (exit 0 bit-exact, 1 mismatch, 2 bad input)',
    )
    .requiredOption('--from <folder>', 'PyITA reference folder (hwpe/mem.txt and the expected images)')
    .option('--vcd <file>', 'write a VCD of the cluster and the HWPE')
    .option('--svg <file>', 'write a timeline of ITA, DMA and cores')
    .option('--json', 'print the report as JSON')
    .option(
      '--wait <mode>',
      'how the driver waits for a job: poll (HWPE_BUSY, as on the RTL) or event (wfi, woken by the completion event routed to CL_CLINT: not in the RTL)',
      'poll',
    )
    .option('--max-cycles <n>', 'stop after this many cycles', '5000000')
    .action((opts: Record<string, string | boolean | undefined>) => {
      const wait = opts.wait as string;
      if (wait !== 'poll' && wait !== 'event')
        throw new InputError(`--wait must be poll or event, got '${wait}'`);
      const maxCycles = checkInt('--max-cycles', opts.maxCycles as string, 1, 2 ** 40);
      process.exitCode = runAttentionCommand({
        from: opts.from as string,
        wait,
        maxCycles,
        json: opts.json === true,
        ...(opts.vcd ? { vcd: opts.vcd as string } : {}),
        ...(opts.svg ? { svg: opts.svg as string } : {}),
      });
    });
}
