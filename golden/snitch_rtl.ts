/**
 * The Snitch cluster RTL's timing facts (`golden/data/snitch-rtl.zip`, built by
 * `scripts/import-snitch-rtl.ts`): per program the RTL's cycle count and exit code, the riscv-tests
 * images, and the issue cycle of every instruction in the RTL's per-hart traces.
 *
 * Cycles are numbered as the RTL harness numbers them: cycle 1 is the first rising edge after
 * reset, and a run's count is the edge on which the `tohost` write reaches memory. The model's
 * cycle k (0-based, `Simulator.cycle` before the step) is the RTL's cycle k + 1.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Cluster } from '../rtl-model/cluster/cluster.ts';
import { repoUrl } from '../rtl-model/repo.ts';
import { text, loadGolden, type FileMap } from './archive.ts';

export interface SnitchRtlRow {
  program: string;
  cycles: number;
  exitCode: number;
  firstIssue: number;
}

/** One issued instruction: RTL cycle and pc. */
export interface Issue {
  cycle: number;
  pc: number;
}

/**
 * The issue events of an RTL tracer's `.dasm` text as "cycle pc" lines: the lines with
 * `'stall': 0x0` (a line with stall 1 only reports a write-back).
 */
export function issueLines(dasm: string): string {
  const out: string[] = [];
  for (const line of dasm.split('\n')) {
    const m = /^\s*\d+\s+(\d+)\s+\d+\s+0x([0-9a-f]+)\s.*'stall': 0x0/.exec(line);
    if (m) out.push(`${m[1]} ${m[2]}`);
  }
  return out.join('\n') + '\n';
}

let cache: FileMap | null = null;
function archive(): FileMap {
  return (cache ??= loadGolden('snitch-rtl'));
}

/** The rows of the RTL's `cycles.csv`. */
export function snitchRtlCycles(): SnitchRtlRow[] {
  return text(archive(), 'cycles.csv')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => {
      const [program, cycles, exitCode, firstIssue] = l.split(',');
      return {
        program: program!,
        cycles: Number(cycles),
        exitCode: Number(exitCode),
        firstIssue: Number(firstIssue),
      };
    });
}

/** A riscv-test: its image at 0x8000_0000 (checked against its sha256) and its `tohost`. */
export function riscvTest(name: string): { image: Uint8Array; tohost: number } {
  const files = archive();
  const image = files.get(`riscv-tests/${name}.bin`);
  if (!image) throw new Error(`no riscv-test ${name} in snitch-rtl.zip`);
  const sum = createHash('sha256').update(image).digest('hex');
  if (!text(files, 'riscv-tests.sha256').includes(`${sum}  ${name}.bin`))
    throw new Error(`riscv-test ${name}: image does not match its sha256`);
  const meta = JSON.parse(text(files, 'riscv-tests.json')) as Record<string, { tohost: number }>;
  return { image, tohost: meta[name]!.tohost };
}

/** The RTL's issue events of hart `hart` of `program`, or null where no trace is kept. */
export function rtlIssues(program: string, hart: number): Issue[] | null {
  const f = archive().get(`issue/${program}/hart${hart}.txt`);
  return f ? parseIssues(f) : null;
}

/** Issue events from the "cycle pc" lines that `issueLines` wrote. */
export function parseIssues(f: Uint8Array): Issue[] {
  const out: Issue[] = [];
  for (const line of new TextDecoder().decode(f).split('\n')) {
    if (!line) continue;
    const [c, pc] = line.split(' ');
    out.push({ cycle: Number(c), pc: parseInt(pc!, 16) });
  }
  return out;
}

/**
 * The first issue event where two lists part (index, both events), or null when equal. Used to
 * name the first instruction whose issue cycle differs between the model and the RTL.
 */
export function firstDifference(
  rtl: Issue[],
  model: Issue[],
): { index: number; rtl: Issue | undefined; model: Issue | undefined } | null {
  const n = Math.max(rtl.length, model.length);
  for (let i = 0; i < n; i++) {
    const a = rtl[i];
    const b = model[i];
    if (!a || !b || a.cycle !== b.cycle || a.pc !== b.pc) return { index: i, rtl: a, model: b };
  }
  return null;
}

/** "#index: RTL pc .. cycle .., model pc .. cycle .." for a difference `firstDifference` found. */
export function describeDifference(d: NonNullable<ReturnType<typeof firstDifference>>): string {
  const e = (i: Issue | undefined): string => (i ? `pc ${i.pc.toString(16)} cycle ${i.cycle}` : 'none');
  return `#${d.index}: RTL ${e(d.rtl)}, model ${e(d.model)}`;
}

/**
 * A program of the reference loaded into a fresh cluster as the RTL ran it (a riscv-test image,
 * or a kernel ELF of `sw/bin` with its built-in arguments and zero data), with every hart's
 * issue events recorded in the RTL's cycle numbering (the model's cycle k is the RTL's k + 1).
 */
export function referenceRun(program: string): { cluster: Cluster; issues: Issue[][] } {
  let c: Cluster;
  if (program.startsWith('rv32')) {
    const { image, tohost } = riscvTest(program);
    c = new Cluster();
    c.mem.load(0x8000_0000, image);
    c.tohostAddr = tohost;
  } else {
    const elf = readFileSync(repoUrl(`sw/bin/${program}.elf`));
    c = Cluster.fromElf(elf, {}, `${program}.elf`);
  }
  const sim = c.simulator();
  const issues: Issue[][] = c.cores.map(() => []);
  c.cores.forEach((core, h) => (core.onRetire = (pc) => issues[h]!.push({ cycle: sim.cycle + 1, pc })));
  return { cluster: c, issues };
}

/**
 * Delta-codes "cycle pc" lines (as `issueLines` writes them): per issue one line, the cycle
 * difference to the previous issue, followed by the pc difference when it is not +4 (both in
 * decimal; the first issue counts from cycle 0, pc 0). The programs of `sw/probes` keep every
 * hart's issues this way in about 2 KB each.
 */
export function encodeIssues(lines: string): string {
  const out: string[] = [];
  let c0 = 0;
  let pc0 = 0;
  for (const line of lines.split('\n')) {
    if (!line) continue;
    const [c, pc] = line.split(' ');
    const cycle = Number(c);
    const p = parseInt(pc!, 16);
    out.push(p - pc0 === 4 ? `${cycle - c0}` : `${cycle - c0} ${p - pc0}`);
    c0 = cycle;
    pc0 = p;
  }
  return out.join('\n') + '\n';
}

/** The issue events of `encodeIssues` text. */
export function decodeIssues(text: string): Issue[] {
  const out: Issue[] = [];
  let cycle = 0;
  let pc = 0;
  for (const line of text.split('\n')) {
    if (!line) continue;
    const [dc, dpc] = line.split(' ');
    cycle += Number(dc);
    pc += dpc === undefined ? 4 : Number(dpc);
    out.push({ cycle, pc });
  }
  return out;
}

let probeCache: FileMap | null = null;
function probeArchive(): FileMap {
  return (probeCache ??= loadGolden('snitch-rtl-probes'));
}

/** The programs of `sw/probes` run on the RTL: name, cycle count, exit code. */
export function snitchRtlProbes(): { program: string; cycles: number; exitCode: number }[] {
  return text(probeArchive(), 'probes.csv')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => {
      const [program, cycles, exitCode] = l.split(',');
      return { program: program!, cycles: Number(cycles), exitCode: Number(exitCode) };
    });
}

/** The RTL's issue events of hart `hart` of probe `program`. */
export function probeIssues(program: string, hart: number): Issue[] {
  return decodeIssues(text(probeArchive(), `issue/${program}/hart${hart}.txt`));
}

/** A probe's ELF loaded into a fresh cluster, every hart's issues recorded as in `referenceRun`. */
export function probeRun(program: string): { cluster: Cluster; issues: Issue[][] } {
  const elf = probeArchive().get(`elf/${program}.elf`);
  if (!elf) throw new Error(`no probe ${program} in snitch-rtl-probes.zip`);
  const c = Cluster.fromElf(elf, {}, `${program}.elf`);
  const sim = c.simulator();
  const issues: Issue[][] = c.cores.map(() => []);
  c.cores.forEach((core, h) => (core.onRetire = (pc) => issues[h]!.push({ cycle: sim.cycle + 1, pc })));
  return { cluster: c, issues };
}
