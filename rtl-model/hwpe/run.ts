/**
 * Runs the HWPE testbench on a reference folder and reports:
 * - the output images compared word by word with the folder's `hwpe/*.txt`,
 * - the job table and event log in the format of the RTL traces (`rtl-traces/hwpe/`): per edge
 *   (counted from reset release, edge e = the cycle before it) the trigger write, busy rise,
 *   engine start, done, completion event, busy fall, soft clear, and the number of memory ports
 *   granted for reads and for writes; per job the edges, `start_to_done`,
 *   `trigger_to_busyfall`, read / write beats and port grants.
 * - the `A` image (the core's streamed softmax, which never reaches memory): the operand rows the
 *   core's dot-product units take in the AV jobs (`inp1` while `calc_en` in step AV), compared
 *   with `hwpe/A.txt`.
 */
import { Simulator } from '../sim/kernel.ts';
import { VcdWriter } from '../sim/vcd.ts';
import { ItaHwpeTb, OUTPUT_IMAGES, STEPS, loadHwpeStimuli } from './tb.ts';
import type { FolderFiles, HwpeStimuli, StepName } from './tb.ts';

export interface HwpeEvent {
  edge: number;
  event: string;
  job: number;
  value: string;
  extra: string;
}

export interface HwpeJobRow {
  job: number;
  step: StepName;
  trigger: number;
  start: number;
  done: number;
  evt: number;
  busy_fall: number;
  start_to_done: number;
  trigger_to_busyfall: number;
  rd_beats: number;
  wr_beats: number;
  rd_port_grants: number;
  wr_port_grants: number;
}

export interface ImageCheck {
  name: string;
  words: number;
  mismatches: number;
  first: string | null;
}

export interface HwpeRunResult {
  cycles: number;
  jobs: HwpeJobRow[];
  events: HwpeEvent[];
  images: ImageCheck[];
  pass: boolean;
}

export interface HwpeRunOptions {
  vcd?: string;
  /** Receives one line per cycle (`ita_hwpe_top` line trace). */
  lineTrace?: (line: string) => void;
  maxCycles?: number;
  /** Bits per memory port: 32 (default, as the RTL testbench: 32 ports) or 64 (16 ports). */
  memDataWidth?: number;
  progress?: (cycle: number) => void;
}

export function runHwpeFolder(
  files: FolderFiles,
  folderName: string,
  opts: HwpeRunOptions = {},
): HwpeRunResult {
  return runHwpe(loadHwpeStimuli(files, folderName), opts);
}

export function runHwpe(st: HwpeStimuli, opts: HwpeRunOptions = {}): HwpeRunResult {
  const tb = new ItaHwpeTb(st, opts.memDataWidth ?? 32);
  const sim = new Simulator(tb);
  sim.reset();
  const dut = tb.dut;
  const top = dut.i_ita;
  const slave = top.i_ctrl.i_slave;
  const mem = tb.i_data_memory;
  const events: HwpeEvent[] = [];
  const jobs: HwpeJobRow[] = [];
  let job = -1;
  let busyQ = 0;
  const ev = (edge: number, event: string, value = '', extra = ''): void => {
    events.push({ edge, event, job, value, extra });
  };
  // A image: operand rows of the AV jobs (64 bytes per handshake; every row is taken four times)
  const aRows: Uint8Array[] = [];
  const ita = top.i_engine.i_ita;
  sim.onCycle((e) => {
    const p = dut.periph;
    if (p.req && !p.wen) {
      const reg = (p.add >>> 2) & 63;
      if (reg === 0 && p.data === 0) {
        job++;
        const j = tb.jobs[job];
        jobs.push({
          job,
          step: j ? j.step : 'Q',
          trigger: e,
          start: -1,
          done: -1,
          evt: -1,
          busy_fall: -1,
          start_to_done: 0,
          trigger_to_busyfall: 0,
          rd_beats: 0,
          wr_beats: 0,
          rd_port_grants: 0,
          wr_port_grants: 0,
        });
        ev(e, 'trigger', String(p.data));
      } else if (reg === 5) ev(e, 'softclear');
    }
    const busy = dut.busy_o;
    const row = jobs[job];
    if (busy && !busyQ) ev(e, 'busy_rise');
    const ctl = top.i_ctrl;
    if (ctl.ctrl_engine_o.start) {
      ev(e, 'start', String(ctl.ctrl_engine_o.layer), slave.param(14).toString(16));
      if (row) row.start = e;
    }
    if (ctl.done) {
      ev(e, 'done');
      if (row) row.done = e;
    }
    const evt = slave.evt(0);
    if (evt) {
      ev(e, 'evt', String(evt));
      if (row) row.evt = e;
    }
    if (!busy && busyQ) {
      ev(e, 'busy_fall');
      if (row) row.busy_fall = e;
    }
    busyQ = busy;
    if (mem.rdGrants) {
      ev(e, 'tcdm_rd', String(mem.rdGrants));
      if (row) {
        row.rd_beats++;
        row.rd_port_grants += mem.rdGrants;
      }
    }
    if (mem.wrGrants) {
      ev(e, 'tcdm_wr', String(mem.wrGrants));
      if (row) {
        row.wr_beats++;
        row.wr_port_grants += mem.wrGrants;
      }
    }
    if (ita.calc_en_q.q(1) && ita.step_q.q(1) === AV_STEP)
      aRows.push(Uint8Array.from(ita.i_inp1_mux.inp1_o, (b) => b & 0xff));
  });
  let vcd: VcdWriter | null = null;
  if (opts.vcd) {
    const probes = [...tb.walk()].flatMap((m) => m.probes);
    vcd = new VcdWriter(opts.vcd, probes);
    const w = vcd;
    sim.onCycle((c) => w.sample(c));
  }
  if (opts.lineTrace) {
    const f = opts.lineTrace;
    sim.onCycle((c) => f(`${String(c).padStart(7)}: ${top.lineTrace()}`));
  }
  const max = opts.maxCycles ?? 5_000_000;
  try {
    while (!tb.finished) {
      if (sim.cycle >= max) throw new Error(`HWPE testbench did not finish within ${max} cycles (hang?)`);
      tb.drive();
      if (tb.finished) break;
      sim.step();
      if (opts.progress && (sim.cycle & 4095) === 0) opts.progress(sim.cycle);
    }
  } finally {
    vcd?.close(sim.cycle);
  }
  for (const r of jobs) {
    r.start_to_done = r.done - r.start;
    r.trigger_to_busyfall = r.busy_fall - r.trigger;
  }
  // output images
  const images: ImageCheck[] = [];
  const L = tb.layout;
  for (const n of OUTPUT_IMAGES) {
    const exp = st.expected.get(n)!;
    const base = L.out[n] / 4;
    let mism = 0;
    let first: string | null = null;
    for (let i = 0; i < exp.length; i++) {
      const got = mem.word(base + i);
      if (got !== exp[i]) {
        mism++;
        if (!first)
          first = `word ${i} (address 0x${(4 * (base + i)).toString(16)}): expected ${hex(exp[i]!)}, got ${hex(got)}`;
      }
    }
    images.push({ name: n, words: exp.length, mismatches: mism, first });
  }
  images.push(checkA(st, aRows));
  const pass = images.every((i) => i.mismatches === 0);
  return { cycles: sim.cycle, jobs, events, images, pass };
}

/** The core's AV step code. */
const AV_STEP = 5;

const hex = (v: number): string => (v >>> 0).toString(16).padStart(8, '0');

/**
 * The A image is `A_partial_softmax` in 64 x 64 tiles (row group g, key tile t, head h). In the AV
 * jobs of row group g and head h the core takes each 64-element row of tile t four times (once per
 * 16 output columns), for inner tile t.
 */
function checkA(st: HwpeStimuli, rows: Uint8Array[]): ImageCheck {
  const exp = st.expected.get('A')!;
  const ts = st.S / 64;
  const tp = st.P / 64;
  const got = new Uint8Array(exp.length * 4);
  // jobs in order: head, group, output tile x (tp), inner tile t (ts); 256 handshakes per job
  let k = 0;
  for (let h = 0; h < st.H; h++) {
    for (let g = 0; g < ts; g++) {
      for (let x = 0; x < tp; x++) {
        for (let t = 0; t < ts; t++) {
          for (let n = 0; n < 256; n++, k++) {
            const r = rows[k];
            if (!r || x !== 0 || n >= 64) continue;
            const tileBase = ((h * ts + g) * ts + t) * 4096;
            got.set(r, tileBase + n * 64);
          }
        }
      }
    }
  }
  const dv = new DataView(got.buffer);
  let mism = 0;
  let first: string | null = null;
  for (let i = 0; i < exp.length; i++) {
    const v = dv.getUint32(4 * i, true);
    if (v !== exp[i]) {
      mism++;
      if (!first) first = `word ${i}: expected ${hex(exp[i]!)}, got ${hex(v)}`;
    }
  }
  if (rows.length !== k) {
    mism++;
    first ??= `${rows.length} AV operand rows, expected ${k}`;
  }
  return { name: 'A', words: exp.length, mismatches: mism, first };
}

/** The job table as CSV (`rtl-traces/hwpe/<folder>.jobs.csv`). */
export function jobsCsv(jobs: HwpeJobRow[]): string {
  const cols = [
    'job',
    'step',
    'trigger',
    'start',
    'done',
    'evt',
    'busy_fall',
    'start_to_done',
    'trigger_to_busyfall',
    'rd_beats',
    'wr_beats',
    'rd_port_grants',
    'wr_port_grants',
  ] as const;
  return [cols.join(','), ...jobs.map((j) => cols.map((c) => String(j[c])).join(','))].join('\n') + '\n';
}

/** The event log as CSV (`rtl-traces/hwpe/<folder>.events.csv`). */
export function eventsCsv(events: HwpeEvent[]): string {
  return (
    [
      'edge,event,job,value,extra',
      ...events.map((e) => `${e.edge},${e.event},${e.job},${e.value},${e.extra}`),
    ].join('\n') + '\n'
  );
}

export { STEPS };
