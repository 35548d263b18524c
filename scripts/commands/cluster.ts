/**
 * `itasim cluster run <elf>`: runs a bare-metal RV32 program on the cycle-level Snitch cluster
 * until it writes `tohost`, then prints cycles, per-core instructions and IPC, stall cycles by
 * cause and DMA traffic. The process exit code is the program's (HTIF `tohost` convention),
 * saturated at 255.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { Cluster, DEFAULT_CLUSTER } from '../../rtl-model/cluster/cluster.ts';
import { checkInt, InputError } from '../../rtl-model/errors.ts';
import type { Probe } from '../../rtl-model/sim/kernel.ts';
import { VcdWriter } from '../../rtl-model/sim/vcd.ts';
import { Stall } from '../../rtl-model/snitch/core.ts';

export interface ClusterRunOptions {
  maxCycles: number;
  trace: string[];
  vcd?: string;
  dramLatency: number;
  fetchPenalty: number;
}

export interface CoreReport {
  core: string;
  instructions: number;
  ipc: number;
  stalls: Record<string, number>;
}

export interface ClusterReport {
  cycles: number;
  finished: boolean;
  exitCode: number;
  cores: CoreReport[];
  dmaBytes: number;
  dmaTransfers: number;
}

/** The stall causes reported, with the counters they come from. */
const CAUSES: [string, (c: Cluster, i: number) => number][] = [
  ['dependency', (c, i) => c.cores[i]!.nStall[Stall.Dependency]!.value],
  ['bank conflict', (c, i) => c.tcdm.ports[i]!.conflicts],
  ['lsu full', (c, i) => c.cores[i]!.nStall[Stall.Lsu]!.value + c.cores[i]!.nStall[Stall.Fence]!.value],
  ['mul/div', (c, i) => c.cores[i]!.nStall[Stall.Offload]!.value],
  ['fetch', (c, i) => c.cores[i]!.nStall[Stall.Fetch]!.value],
  ['barrier', (c, i) => c.cores[i]!.nStall[Stall.Barrier]!.value],
  ['wfi', (c, i) => c.cores[i]!.nStall[Stall.Wfi]!.value],
];

/** Summary of a finished (or stopped) run. */
export function report(c: Cluster, cycles: number, finished: boolean, exitCode: number): ClusterReport {
  const cores: CoreReport[] = c.cores.map((core, i) => {
    const stalls: Record<string, number> = {};
    for (const [name, f] of CAUSES) stalls[name] = f(c, i);
    const n = core.nInstr.value;
    return {
      core: i === c.cores.length - 1 ? `dma core (${i})` : `core ${i}`,
      instructions: n,
      ipc: cycles ? n / cycles : 0,
      stalls,
    };
  });
  return {
    cycles,
    finished,
    exitCode,
    cores,
    dmaBytes: c.dma.nBytes.value,
    dmaTransfers: c.dma.nTransfers.value,
  };
}

export function formatReport(r: ClusterReport): string {
  const lines: string[] = [];
  lines.push(`cycles: ${r.cycles}${r.finished ? '' : ' (stopped: max cycles reached)'}`);
  const head = ['core', 'instr', 'IPC', ...CAUSES.map(([n]) => n)];
  const rows = r.cores.map((c) => [
    c.core,
    String(c.instructions),
    c.ipc.toFixed(3),
    ...CAUSES.map(([n]) => String(c.stalls[n])),
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const fmt = (row: string[]) =>
    row.map((x, i) => (i === 0 ? x.padEnd(w[i]!) : x.padStart(w[i]!))).join('  ');
  lines.push(fmt(head));
  for (const row of rows) lines.push(fmt(row));
  lines.push(`dma: ${r.dmaBytes} bytes in ${r.dmaTransfers} transfers`);
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
      if (!core) throw new InputError(`--trace: core index must be 0..${c.cores.length - 1}, got ${s}`);
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
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(elfPath);
  } catch {
    throw new InputError(`<elf>: cannot read '${elfPath}'`);
  }
  const c = Cluster.fromElf(bytes, { dramLatency: o.dramLatency, fetchMissPenalty: o.fetchPenalty }, elfPath);
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
  let r;
  try {
    r = c.run(o.maxCycles);
  } finally {
    vcd?.close();
  }
  const rep = report(c, r.cycles, r.finished, r.exitCode);
  out(`${formatReport(rep)}\n`);
  return rep;
}

export function register(program: Command): void {
  const cluster = program.command('cluster').description('Run programs on the cycle-level Snitch cluster');
  cluster
    .command('run <elf>')
    .description('Run an RV32 ELF until it writes tohost; print cycles, IPC, stalls and DMA traffic')
    .option('--max-cycles <n>', 'stop after this many cycles', '10000000')
    .option('--trace <units>', 'per-cycle trace of units, e.g. core0,core3,dma', '')
    .option('--vcd <file>', 'write a VCD of every register of the cluster')
    .option('--dram-latency <n>', 'DRAM latency in cycles', String(DEFAULT_CLUSTER.dramLatency))
    .option(
      '--fetch-penalty <n>',
      'stall cycles on the first fetch of each 32-byte line (0: perfect fetch)',
      '0',
    )
    .action((elf: string, opts: Record<string, string | undefined>) => {
      const maxCycles = checkInt('--max-cycles', Number(opts.maxCycles), 1, 2 ** 40);
      const dramLatency = checkInt('--dram-latency', Number(opts.dramLatency), 1, 10000);
      const fetchPenalty = checkInt('--fetch-penalty', Number(opts.fetchPenalty), 0, 10000);
      const trace = (opts.trace ?? '').split(',').filter((s) => s.length > 0);
      const rep = runCluster(elf, {
        maxCycles,
        trace,
        dramLatency,
        fetchPenalty,
        ...(opts.vcd ? { vcd: opts.vcd } : {}),
      });
      // exit status: the program's code, saturated at 255 (a wrap modulo 256 could turn a failure
      // into 0); 1 when the run stopped at --max-cycles without writing tohost
      process.exitCode = rep.finished ? Math.min(rep.exitCode, 255) : 1;
    });
}
