/**
 * The ITA system of the paper: the Snitch cluster with ITA's HWPE on its shared L1
 * (`ItaSubsystem`), running `sw/bin/ita_attention.elf` over a PyITA folder whose `hwpe/mem.txt`
 * image the host places in L2 (the ELF's `ita_l2` in DRAM, offsets of `memLayout`). The DMA core
 * streams 64 x 64 tiles between L2 and four L1 job slots while ITA computes and writes every output
 * back to L2; hart 0 programs each job through the driver (`sw/runtime/ita.h`). The output regions
 * in L2 are compared word by word with the folder's `hwpe/<step>.txt` images.
 */
import { readFileSync } from 'node:fs';
import { InputError } from '../errors.ts';
import { repoUrl } from '../repo.ts';
import { loadHwpeStimuli, memLayout, OUTPUT_IMAGES, STEPS, type FolderFiles } from '../hwpe/tb.ts';
import { Cluster } from './cluster.ts';
import { ItaSubsystem, type ItaSubsystemConfig } from './ita_subsystem.ts';

export const ITA_ATTENTION_ELF = repoUrl('sw/bin/ita_attention.elf');
/** Bytes of `ita_l2` (`L2_BYTES` of the program). */
export const ITA_L2_BYTES = 1024 * 1024;
const MAX_HEADS = 4;

export interface ImageResult {
  name: string;
  words: number;
  mismatches: number;
  first: string | null;
}

export interface ItaSystemOptions {
  /**
   * 0: the driver polls HWPE_BUSY (as on the RTL); 1: it sleeps in wfi until the completion event,
   * which the model then also routes to CL_CLINT (the RTL does not: a variant).
   */
  waitMode: 0 | 1;
  /** Stop after this many jobs (0: all). */
  maxJobs: number;
  maxCycles: number;
  subsystem: Partial<ItaSubsystemConfig>;
  /** Called once the system is built, before the first cycle (to attach probes). */
  onBuild?: (cluster: Cluster, ita: ItaSubsystem) => void;
  /** Called every cycle after the combinational pass (traces). */
  onCycle?: (cycle: number) => void;
}

export interface ItaSystemResult {
  cycles: number;
  exitCode: number;
  finished: boolean;
  jobs: number;
  /** Cycles hart 0 measured from its start to the last completion, and per step. */
  programCycles: number;
  /** Cycles from hart 0's start to the first trigger. */
  firstTrigger: number;
  stepCycles: Record<string, number>;
  images: ImageResult[];
  pass: boolean;
  itaBusy: number;
  itaEvents: number;
  /** HWPE cycles with a request where at least one of its 16 ports was not granted. */
  itaStallCycles: number;
  /** Sum over the cores' ports and the HWPE's of cycles a request waited for its bank. */
  bankConflicts: number;
  dmaBytes: number;
  dmaTransfers: number;
  /** Cycles the iDMA backend had a transfer. */
  dmaBusy: number;
  coreInstructions: number[];
  busyIntervals: [number, number][];
  cluster: Cluster;
  ita: ItaSubsystem;
}

export function buildItaSystem(
  files: FolderFiles,
  folderName: string,
  opts: Partial<ItaSystemOptions> = {},
): { cluster: Cluster; ita: ItaSubsystem; st: ReturnType<typeof loadHwpeStimuli> } {
  const st = loadHwpeStimuli(files, folderName);
  const L = memLayout(st);
  if (st.H > MAX_HEADS)
    throw new InputError(`H must be at most ${MAX_HEADS} for the cluster program, got ${st.H}`);
  const end = Math.max(L.out.F2 + L.outSize.F2, 4 * st.mem.length);
  if (end > ITA_L2_BYTES) {
    throw new InputError(
      `${folderName}: data and outputs need ${end} bytes of L2, the program's image holds ${ITA_L2_BYTES}`,
    );
  }
  const cluster = Cluster.fromElf(readFileSync(ITA_ATTENTION_ELF), {}, 'ita_attention.elf');
  // waking from wfi needs the event on CL_CLINT, a variant of the RTL (where only HWPE_EVT shows it)
  const ita = new ItaSubsystem(cluster, { evtToClint: opts.waitMode === 1, ...opts.subsystem });
  // arguments (layout of ita_args_t)
  const a: number[] = [st.S, st.E, st.P, st.F, st.H, st.activation];
  const pack = (v: number[], o: number): number =>
    ((v[o]! & 0xff) | ((v[o + 1]! & 0xff) << 8) | ((v[o + 2]! & 0xff) << 16) | ((v[o + 3]! & 0xff) << 24)) >>>
    0;
  a.push(((st.gelu_b & 0xffff) | ((st.gelu_c & 0xffff) << 16)) >>> 0);
  a.push(((st.act_mult & 0xff) | ((st.act_shift & 0xff) << 8) | ((st.act_add & 0xff) << 16)) >>> 0);
  a.push(opts.waitMode ?? 0, opts.maxJobs ?? 0);
  for (let h = 0; h < MAX_HEADS; h++) {
    const r = st.rqs[Math.min(h, st.H - 1)]!;
    a.push(
      pack(r.mult, 0),
      pack(r.mult, 4),
      pack(r.shift, 0),
      pack(r.shift, 4),
      pack(r.add, 0),
      pack(r.add, 4),
    );
  }
  for (let h = 0; h < MAX_HEADS; h++) a.push(...L.head(Math.min(h, st.H - 1)));
  a.push(L.ff, L.wf1, L.wf2, L.bf1, L.bf2);
  for (const s of STEPS) a.push(L.out[s]);
  for (const s of STEPS) a.push(L.outSize[s]);
  cluster.writeSymbol('ita_args', Uint32Array.from(a));
  // L2 image
  const img = new Uint8Array(4 * st.mem.length);
  const dv = new DataView(img.buffer);
  for (let i = 0; i < st.mem.length; i++) dv.setUint32(4 * i, st.mem[i]!, true);
  cluster.writeSymbol('ita_l2', img);
  return { cluster, ita, st };
}

/** Offset of the results in `ita_args_t` (words). */
const RESULT_WORD = 10 + 6 * MAX_HEADS + 10 * MAX_HEADS + 5 + 16;

export function runItaSystem(
  files: FolderFiles,
  folderName: string,
  opts: Partial<ItaSystemOptions> = {},
): ItaSystemResult {
  const { cluster, ita, st } = buildItaSystem(files, folderName, opts);
  opts.onBuild?.(cluster, ita);
  const run = cluster.run(opts.maxCycles ?? 5_000_000, opts.onCycle);
  const res = new Uint32Array(cluster.readSymbol('ita_args', 4 * (3 + 8), 4 * RESULT_WORD).buffer);
  const stepCycles: Record<string, number> = {};
  STEPS.forEach((s, i) => (stepCycles[s] = res[3 + i]!));
  const L = memLayout(st);
  const images: ImageResult[] = [];
  const hex = (v: number): string => v.toString(16).padStart(8, '0');
  for (const n of OUTPUT_IMAGES) {
    const exp = st.expected.get(n)!;
    const got = cluster.readSymbol('ita_l2', 4 * exp.length, L.out[n]);
    const gv = new DataView(got.buffer);
    let mism = 0;
    let first: string | null = null;
    for (let i = 0; i < exp.length; i++) {
      const g = gv.getUint32(4 * i, true);
      if (g !== exp[i]) {
        mism++;
        first ??= `word ${i} (L2 offset 0x${(L.out[n] + 4 * i).toString(16)}): expected ${hex(exp[i]!)}, got ${hex(g)}`;
      }
    }
    images.push({ name: n, words: exp.length, mismatches: mism, first });
  }
  let conflicts = 0;
  for (const p of cluster.tcdm.ports) conflicts += p.conflicts;
  return {
    cycles: run.cycles,
    exitCode: run.exitCode,
    finished: run.finished,
    jobs: res[0]!,
    programCycles: res[1]!,
    firstTrigger: res[2]!,
    stepCycles,
    images,
    pass: run.finished && run.exitCode === 0 && images.every((i) => i.mismatches === 0),
    itaBusy: ita.nBusy.value,
    itaEvents: ita.nEvents.value,
    itaStallCycles: ita.nStallCycles.value,
    bankConflicts: conflicts,
    dmaBytes: cluster.dma.nBytes.value,
    dmaTransfers: cluster.dma.nTransfers.value,
    dmaBusy: cluster.dma.nBusyCycles.value,
    coreInstructions: cluster.cores.map((c) => c.nInstr.value),
    busyIntervals: ita.intervals(run.cycles),
    cluster,
    ita,
  };
}
