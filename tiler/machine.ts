/**
 * The machine a tiler program runs on: the cycle-level Snitch cluster (`rtl-model/cluster`) loaded
 * with the tiler runtime `sw/bin/tiler.elf`, with ITA's HWPE attached (`ItaSubsystem`) or not
 * (cluster-only mode).
 *
 * DRAM (from 0x8000_0000): the ELF image, then the program area (the harts' command streams,
 * `programBytes`, default 8 MiB), then data reserved by `dramAlloc` (64-byte aligned). L1: the
 * runtime's `tiler_l1` buffer (119 KiB at the start of the TCDM; the 9 stacks of 1 KiB sit above
 * it).
 *
 * Statistics are observed from the model every cycle, after its combinational pass, so they do not
 * perturb the timing: a step ends in the cycle the hardware barrier releases; ITA busy is the HWPE's
 * busy line (HWPE_BUSY), DMA busy the iDMA's (a transfer queued, moving or awaiting its
 * acknowledgement); a compute hart counts as working in a cycle unless it waits at the barrier, sleeps
 * in wfi, or executes the runtime's wait loops (`tiler_wait_ita`, `tiler_wait_dma`, located through
 * the ELF's symbols); conflicts are the TCDM requests (cores, DMA core, HWPE ports) not granted.
 *
 * A run that hangs stops with an InputError naming the step: at `maxCycles`, or as soon as every
 * hart has waited with ITA and the DMA idle for `deadlockCycles` (a stream short of a barrier).
 * A Machine runs one program.
 */
import { readFileSync } from 'node:fs';
import { InputError } from '../rtl-model/errors.ts';
import { Cluster } from '../rtl-model/cluster/cluster.ts';
import { parseElf } from '../rtl-model/cluster/elf.ts';
import { ItaSubsystem } from '../rtl-model/cluster/ita_subsystem.ts';
import { DRAM_BASE, TCDM_BASE, TCDM_SIZE } from '../rtl-model/cluster/memory.ts';
import type { Probe } from '../rtl-model/sim/kernel.ts';
import { repoUrl } from '../rtl-model/repo.ts';
import { VcdWriter } from '../rtl-model/sim/vcd.ts';
import { Stall, type Snitch } from '../rtl-model/snitch/core.ts';
import { COMPUTE_HARTS, HARTS, type BuiltProgram } from './program.ts';

export const TILER_ELF = repoUrl('sw/bin/tiler.elf');
/** Bytes of `tiler_l1` (`L1_BYTES` of sw/kernels/tiler.c). */
export const TILER_L1_BYTES = 119 * 1024;

export interface MachineOptions {
  ita: boolean;
  /** Bytes of modelled DRAM (default 64 MiB). */
  dramBytes?: number;
  /** Bytes reserved for the command streams (default 8 MiB). */
  programBytes?: number;
}

export interface StepStats {
  label: string;
  start: number;
  end: number;
  /** cycles ITA was busy within the step */
  ita: number;
  /** cycles the DMA had a transfer in flight */
  dma: number;
  /** sum over harts 0..7 of cycles spent outside barriers / waits */
  cores: number;
  /** bank-conflict stall cycles (cores + DMA + ITA ports not granted) */
  conflicts: number;
}

export interface MachineRun {
  cycles: number;
  steps: StepStats[];
  itaBusy: number;
  dmaBusy: number;
  /** Cycles `[start, end)` in which the DMA had a transfer in flight. */
  dmaIntervals: [number, number][];
  /** Per compute core (harts 0..7), cycles `[start, end)` it was active (outside barriers / waits). */
  coreIntervals: [number, number][][];
  finished: boolean;
  seconds: number;
}

export interface RunOptions {
  maxCycles?: number;
  /** Stop with an error once every hart has waited (barrier, wfi, wait loop) with ITA and the DMA
   *  idle for this many cycles in a row: nothing can progress any more (default 20000). */
  deadlockCycles?: number;
  onProgress?: (step: number, steps: number, cycle: number) => void;
  vcd?: string;
}

const hex = (v: number): string => `0x${(v >>> 0).toString(16)}`;

/** Mutable counters of the step being run (one object, no allocation per cycle). */
/** Run-length record of a signal sampled once per cycle: the intervals `[start, end)` it was on. */
/** Set bits of a 32-bit value. */
function popcount(v: number): number {
  let n = 0;
  for (let x = v >>> 0; x !== 0; x &= x - 1) n++;
  return n;
}

class Lane {
  readonly intervals: [number, number][] = [];
  private start = -1;
  sample(cycle: number, on: boolean): void {
    if (on) {
      if (this.start < 0) this.start = cycle;
    } else if (this.start >= 0) {
      this.intervals.push([this.start, cycle]);
      this.start = -1;
    }
  }
  /** The intervals, one still open ending at `end`. */
  close(end: number): [number, number][] {
    if (this.start >= 0) this.intervals.push([this.start, end]);
    this.start = -1;
    return this.intervals;
  }
}

class Counters {
  ita = 0;
  dma = 0;
  cores = 0;
  conflicts = 0;
  releases = 0;
  stepStart = 0;
  /** Consecutive cycles in which nothing could progress. */
  stuck = 0;
}

export class Machine {
  readonly cluster: Cluster;
  readonly ita: ItaSubsystem | null;
  readonly l1Base: number;
  readonly l1Size: number;
  readonly dramBytes: number;
  /** The program area in DRAM. */
  readonly programBase: number;
  readonly programBytes: number;
  private dramNext: number;
  private ran = false;
  /** pc ranges [lo, hi) of the runtime's wait loops. */
  private readonly waitRanges: number[];

  constructor(opts: MachineOptions) {
    const dramBytes = opts.dramBytes ?? 64 * 1024 * 1024;
    const programBytes = opts.programBytes ?? 8 * 1024 * 1024;
    if (!Number.isInteger(dramBytes) || dramBytes < 1 << 20 || dramBytes > 2 ** 30)
      throw new InputError(`dramBytes must be an integer from 1 MiB to 1 GiB, got ${dramBytes}`);
    if (!Number.isInteger(programBytes) || programBytes < 4096 || programBytes % 64 !== 0)
      throw new InputError(`programBytes must be a multiple of 64 of at least 4096, got ${programBytes}`);
    const bytes = readFileSync(TILER_ELF);
    this.cluster = Cluster.fromElf(bytes, { dramSize: dramBytes }, 'tiler.elf');
    this.ita = opts.ita ? new ItaSubsystem(this.cluster, {}) : null;
    // without ITA nothing drives the accelerator ports (ITA's model says so itself, per cycle)
    if (!this.ita) this.cluster.tcdm.accelQuiet = true;
    this.dramBytes = dramBytes;
    this.l1Base = this.cluster.symbol('tiler_l1');
    this.l1Size = TILER_L1_BYTES;
    if (this.l1Base < TCDM_BASE || this.l1Base + this.l1Size > TCDM_BASE + TCDM_SIZE)
      throw new Error('tiler.elf: tiler_l1 is not inside the TCDM');
    // end of the ELF image (its .bss included)
    let end = DRAM_BASE;
    for (const seg of parseElf(bytes, 'tiler.elf').segments)
      if (seg.vaddr >= DRAM_BASE) end = Math.max(end, seg.vaddr + seg.memSize);
    this.programBase = align64(end);
    this.programBytes = programBytes;
    this.dramNext = this.programBase + programBytes;
    if (this.dramNext > DRAM_BASE + dramBytes)
      throw new InputError(
        `dramBytes ${dramBytes} leaves no room for the program area of ${programBytes} bytes`,
      );
    this.waitRanges = [];
    const sorted = [...this.cluster.symbols.entries()]
      .filter(([n]) => !n.startsWith('.L'))
      .map(([, a]) => a)
      .sort((a, b) => a - b);
    for (const name of ['tiler_wait_ita', 'tiler_wait_dma', 'tiler_wait_done']) {
      const lo = this.cluster.symbol(name);
      const hi = sorted.find((a) => a > lo) ?? lo + 4;
      this.waitRanges.push(lo, hi);
    }
  }

  /** Reserve DRAM for data (64-byte aligned), after the ELF and the program area. */
  dramAlloc(bytes: number): number {
    if (!Number.isInteger(bytes) || bytes < 0)
      throw new InputError(`dramAlloc: bytes must be a non-negative integer, got ${bytes}`);
    const a = this.dramNext;
    const next = align64(a + bytes);
    if (next > DRAM_BASE + this.dramBytes)
      throw new InputError(
        `dramAlloc: ${bytes} bytes do not fit: ${DRAM_BASE + this.dramBytes - a} bytes of DRAM left (dramBytes ${this.dramBytes})`,
      );
    this.dramNext = next;
    return a;
  }

  private check(what: string, addr: number, bytes: number): void {
    const inL1 = addr >= TCDM_BASE && addr + bytes <= TCDM_BASE + TCDM_SIZE;
    const inDram = addr >= DRAM_BASE && addr + bytes <= DRAM_BASE + this.dramBytes;
    if (!Number.isInteger(addr) || !Number.isInteger(bytes) || bytes < 0 || (!inL1 && !inDram))
      throw new InputError(`${what}: ${bytes} bytes at ${hex(addr)} lie outside L1 and the modelled DRAM`);
  }

  write(addr: number, data: Uint8Array): void {
    this.check('write', addr, data.length);
    this.cluster.mem.load(addr, data);
  }

  read(addr: number, bytes: number): Uint8Array {
    this.check('read', addr, bytes);
    const mem = this.cluster.mem;
    const [arr, base] = addr >= DRAM_BASE ? [mem.dram, DRAM_BASE] : [mem.tcdm, TCDM_BASE];
    return arr.slice(addr - base, addr - base + bytes);
  }

  /** Places the streams in the program area and points `tiler_args` at them. */
  private load(p: BuiltProgram): void {
    if (!p || !Array.isArray(p.streams) || p.streams.length !== HARTS)
      throw new InputError(`run: the program must hold ${HARTS} streams (ProgramBuilder.build())`);
    if (!Array.isArray(p.labels) || p.labels.length !== p.steps)
      throw new InputError(`run: the program has ${p.steps} steps but ${p.labels?.length} labels`);
    const ptrs = new Uint32Array(HARTS + 1); // stream pointers, then the count of harts done
    let at = this.programBase;
    for (let h = 0; h < HARTS; h++) {
      const s = p.streams[h]!;
      if (at + 4 * s.length > this.programBase + this.programBytes) {
        const total = p.streams.reduce((n, x) => n + 4 * x.length, 0);
        throw new InputError(
          `run: the program needs ${total} bytes of streams, the program area holds ${this.programBytes} (MachineOptions.programBytes)`,
        );
      }
      ptrs[h] = at;
      this.cluster.mem.load(at, new Uint8Array(s.buffer, s.byteOffset, s.byteLength));
      at = align64(at + 4 * s.length);
    }
    this.cluster.writeSymbol('tiler_args', ptrs);
  }

  run(p: BuiltProgram, opts: RunOptions = {}): MachineRun {
    if (this.ran) throw new InputError('run: a Machine runs one program; create a new Machine for the next');
    this.load(p);
    this.ran = true;
    const maxCycles = opts.maxCycles ?? 2 ** 40;
    const cluster = this.cluster;
    const sim = cluster.simulator();
    const periph = cluster.periph;
    const dma = cluster.dma;
    const tcdm = cluster.tcdm;
    const cores = cluster.cores.slice(0, COMPUTE_HARTS);
    const [w0lo, w0hi, w1lo, w1hi, w2lo, w2hi] = this.waitRanges as [
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    const deadlock = opts.deadlockCycles ?? 20_000;
    const dmaCore = cluster.dmaCore;
    const steps: StepStats[] = [];
    const n = p.steps;
    const ct = new Counters();
    let itaBusy = 0;
    let dmaBusy = 0;
    const dmaLane = new Lane();
    const coreLanes = Array.from({ length: COMPUTE_HARTS }, () => new Lane());
    let lastOn = 0;
    let active = 0;
    const onProgress = opts.onProgress;
    const waitingCore = (c: Snitch): boolean => {
      if (c.stall === Stall.Barrier || c.stall === Stall.Wfi) return true;
      const pc = c.pcQ;
      return (pc >= w0lo && pc < w0hi) || (pc >= w1lo && pc < w1hi) || (pc >= w2lo && pc < w2hi);
    };
    const waiting = (i: number): boolean => waitingCore(cores[i]!);
    let vcd: VcdWriter | null = null;
    if (opts.vcd) {
      const probes: Probe[] = [
        { name: 'tiler.step', width: 24, read: () => Math.min(ct.releases, 2 ** 24 - 1) },
        { name: 'tiler.ita_busy', width: 1, read: () => periph.hwpeBusy & 1 },
        { name: 'tiler.dma_busy', width: 1, read: () => (dma.isBusy ? 1 : 0) },
      ];
      for (let i = 0; i < COMPUTE_HARTS; i++)
        probes.push({ name: `tiler.core${i}_active`, width: 1, read: () => (waiting(i) ? 0 : 1) });
      vcd = new VcdWriter(opts.vcd, probes);
    }
    const hook = (cycle: number): void => {
      const itaOn = periph.hwpeBusy !== 0;
      const dmaOn = dma.isBusy;
      if (itaOn) ct.ita++;
      if (dmaOn) ct.dma++;
      dmaLane.sample(cycle, dmaOn);
      ct.conflicts += tcdm.congestedThisCycle;
      // the active cores as a bit mask; a lane changes only where its bit does
      let on = 0;
      for (let i = 0; i < COMPUTE_HARTS; i++) {
        const c = cores[i]!;
        const st = c.stall;
        if (st === Stall.Barrier || st === Stall.Wfi) continue;
        const pc = c.pcQ;
        if ((pc >= w0lo && pc < w0hi) || (pc >= w1lo && pc < w1hi) || (pc >= w2lo && pc < w2hi)) continue;
        on |= 1 << i;
      }
      if (on !== lastOn) {
        for (let i = 0, d = on ^ lastOn; d !== 0; i++, d >>>= 1)
          if (d & 1) coreLanes[i]!.sample(cycle, ((on >>> i) & 1) === 1);
        lastOn = on;
        active = popcount(on);
      }
      ct.cores += active;
      if (active === 0 && !itaOn && !dmaOn && !periph.barrierOut && waitingCore(dmaCore)) ct.stuck++;
      else ct.stuck = 0;
      if (vcd) vcd.sample(cycle);
      if (periph.barrierOut) {
        const k = ct.releases++;
        if (k < n) {
          steps.push({
            label: p.labels[k]!,
            start: ct.stepStart,
            end: cycle + 1,
            ita: ct.ita,
            dma: ct.dma,
            cores: ct.cores,
            conflicts: ct.conflicts,
          });
          itaBusy += ct.ita;
          dmaBusy += ct.dma;
          ct.ita = ct.dma = ct.cores = ct.conflicts = 0;
          ct.stepStart = cycle + 1;
          if (onProgress) onProgress(k + 1, n, cycle + 1);
        }
      }
    };
    this.hook = hook;
    if (!this.hooked) {
      sim.onCycle((c) => this.hook(c));
      this.hooked = true;
    }
    const t0 = performance.now();
    const start = sim.cycle;
    try {
      while (cluster.tohost === 0 && sim.cycle - start < maxCycles && ct.stuck < deadlock) sim.step();
    } catch (e) {
      vcd?.abort();
      throw e;
    }
    const cycles = sim.cycle - start;
    const finished = cluster.tohost !== 0;
    vcd?.close(sim.cycle);
    if (!finished) {
      const k = Math.min(ct.releases, n);
      const label = k < n ? `step ${k} '${p.labels[k]}'` : `the end of the program (after step ${n - 1})`;
      const arrived: number[] = [];
      const arr = periph.arrival.cur;
      for (let h = 0; h < HARTS; h++) if ((arr >>> h) & 1) arrived.push(h);
      const others: number[] = [];
      for (let h = 0; h < HARTS; h++) if (!arrived.includes(h)) others.push(h);
      const why =
        ct.stuck >= deadlock
          ? `every hart has waited for ${deadlock} cycles with ITA and the DMA idle (deadlock)`
          : `no end within ${maxCycles} cycles (maxCycles)`;
      throw new InputError(
        `the program hung in ${label}: ${why}; harts at the barrier: [${arrived.join(', ')}], harts not there: [${others.join(', ')}], ITA ${periph.hwpeBusy ? 'busy' : 'idle'}, DMA ${dma.isBusy ? 'busy' : 'idle'}`,
      );
    }
    if (cluster.tohost !== 1) throw new Error(`tiler.elf ended with code ${cluster.tohost >>> 1}`);
    return {
      cycles,
      steps,
      itaBusy,
      dmaBusy,
      dmaIntervals: dmaLane.close(sim.cycle),
      coreIntervals: coreLanes.map((l) => l.close(sim.cycle)),
      finished,
      seconds: (performance.now() - t0) / 1000,
    };
  }
  private hook: (cycle: number) => void = () => {};
  private hooked = false;
}

function align64(a: number): number {
  return Math.ceil(a / 64) * 64;
}
