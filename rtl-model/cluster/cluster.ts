/**
 * `snitch_cluster` in the configuration of the ITA system (`target/snitch_cluster/cfg/ita.hjson`
 * of the paper's fork): one hive of 8 compute cores and 1 DMA core, all rv32ima, sharing one
 * mul/div unit; 128 KiB TCDM in 32 banks of 64 bit; a 512-bit DMA; cluster peripherals and the
 * hardware barrier; 16 spare 64-bit TCDM ports for an accelerator.
 *
 * Per core, `snitch_cc` routes the data port (after the request cut) either to the TCDM
 * interconnect or, for every other address, out of the cluster (`reqrsp_demux`). Responses return
 * in request order: the demux only switches target when the other one has nothing in flight.
 * Outside the cluster, the cores share one path to DRAM and to the cluster peripherals
 * (`NarrowAxi`: `reqrsp_mux`, `reqrsp_to_axi`, the narrow crossbar and the RTL harness's memory).
 *
 * Instruction fetch goes through the hive's instruction cache (`SnitchIcache`: per-core L0, shared
 * L1, refills from DRAM over the wide AXI port), as the RTL has it. `idealFetch` replaces it by a
 * perfect instruction memory (every fetch ready in the cycle it is needed), for experiments that
 * isolate the cores' timing from fetch.
 *
 * Program exit: a store of a non-zero word to the ELF symbol `tohost` (HTIF convention) stops the
 * run at the edge on which it reaches the memory, which is where the RTL harness counts its last
 * cycle; value 1 is success (exit 0), any other odd value v gives exit code v >> 1.
 *
 * Simulation only (`coreClockGate`, on by default): a core asleep in wfi or stalled at the barrier
 * with nothing in flight, neither in its own queues nor in the mul/div unit or (DMA core) the DMA
 * frontend, is not evaluated, updated or clocked from the start of such a cycle until the cycle its
 * wait ends (a pending interrupt, `barrier_o`), when it is evaluated again as usual; its cycle and
 * stall counters advance as if clocked (see `Snitch.waiting`). Every cycle is the same as with the
 * cores clocked every cycle (`coreClockGate: false`, which the tests compare).
 */
import { InputError } from '../errors.ts';
import { Module, Simulator, type Reg } from '../sim/kernel.ts';
import { Snitch } from '../snitch/core.ts';
import type { DataReq } from '../snitch/ports.ts';
import { SharedMulDiv } from '../snitch/muldiv.ts';
import { parseElf, type ElfImage } from './elf.ts';
import { Idma } from './idma.ts';
import { Ext, NarrowAxi, type NarrowAccess } from './narrow_axi.ts';
import { ClusterMemory, PERIPH_BASE, TCDM_BASE } from './memory.ts';
import { Peripherals } from './peripherals.ts';
import { SnitchIcache } from './snitch_icache.ts';
import { WideAxi } from './wide_axi.ts';
import { Tcdm, TcdmPort } from './tcdm.ts';

export interface ClusterConfig {
  computeCores: number;
  /** Latency of DRAM / L2 in cycles (wide DMA reads and write acks, narrow core accesses). */
  dramLatency: number;
  /** Bytes of DRAM modelled at 0x8000_0000. */
  dramSize: number;
  bootAddr: number;
  /** TCDM ports reserved for an accelerator (ITA: 16). */
  accelPorts: number;
  /** A perfect instruction memory instead of the instruction cache. */
  idealFetch: boolean;
  /**
   * Stop evaluating and clocking a core while it provably waits (wfi or the barrier, nothing in
   * flight) until the event that ends the wait; the same cycles and results either way.
   */
  coreClockGate: boolean;
}

/**
 * Round trip of the RTL harness's memory (`tb_memory_axi`) seen from the cluster's wide port: an
 * AR handshake in cycle A gives R in A+9. The default `dramLatency`; larger values delay every
 * memory access outside the cluster by the difference.
 */
export const HARNESS_DRAM_LATENCY = 9;

export const DEFAULT_CLUSTER: ClusterConfig = {
  computeCores: 8,
  dramLatency: HARNESS_DRAM_LATENCY,
  dramSize: 16 * 1024 * 1024,
  bootAddr: 0x8000_0000,
  accelPorts: 16,
  idealFetch: false,
  coreClockGate: true,
};

/** Responses of one target held until they are the oldest of the core (a small queue). */
class RspQueue {
  readonly data = new Float64Array(4);
  readonly write = new Uint8Array(4);
  head = 0;
  count = 0;
  push(data: number, write: boolean): void {
    const i = (this.head + this.count) & 3;
    this.data[i] = data;
    this.write[i] = write ? 1 : 0;
    this.count++;
  }
  pop(): void {
    this.head = (this.head + 1) & 3;
    this.count--;
  }
}

/**
 * One core's `reqrsp_demux`: the head of the request cut goes to the TCDM or out of the cluster as
 * soon as that side takes it; responses return in request order (a FIFO of the targets), so a
 * response of one side waits while an older one of the other side is outstanding.
 */
class CorePath {
  /** Targets of the accesses in flight, oldest first: 0 TCDM, 1 outside (ring of 8). */
  readonly order = new Uint8Array(8);
  orderHead = 0;
  orderCount = 0;
  readonly tcdmRsp = new RspQueue();
  readonly extRsp = new RspQueue();
  toTcdm = false;
  /** The head of the request cut, offered to `reqrsp_mux` this cycle (else null). */
  extHead: DataReq | null = null;
  constructor(
    readonly core: Snitch,
    readonly port: TcdmPort,
  ) {}
  sent(target: number): void {
    this.order[(this.orderHead + this.orderCount) & 7] = target;
    this.orderCount++;
  }
  /** Moves the oldest response, if it has arrived, into the core's response cut. */
  deliver(): void {
    if (this.orderCount === 0 || !this.core.drsp.canPush) return;
    const q = this.order[this.orderHead] === 0 ? this.tcdmRsp : this.extRsp;
    if (q.count === 0) return;
    const r = this.core.drsp.push();
    r.data = q.data[q.head]!;
    r.write = q.write[q.head] === 1;
    q.pop();
    this.orderHead = (this.orderHead + 1) & 7;
    this.orderCount--;
  }
}

/**
 * A slave outside the TCDM and the peripherals on the cores' narrow path (e.g. an accelerator's
 * configuration port). `access` takes an access leaving a core in this cycle and returns its
 * latency; read data must be in `rsp.data` by then.
 */
export interface ExtTarget {
  contains(addr: number): boolean;
  access(
    write: boolean,
    addr: number,
    size: number,
    data: number,
    hart: number,
    rsp: { data: number },
  ): number;
}

export interface RunResult {
  cycles: number;
  exitCode: number;
  tohost: number;
  finished: boolean;
}

export class Cluster extends Module {
  readonly cfg: ClusterConfig;
  readonly mem: ClusterMemory;
  readonly cores: Snitch[];
  readonly dmaCore: Snitch;
  readonly tcdm: Tcdm;
  readonly muldiv: SharedMulDiv;
  readonly dma: Idma;
  readonly periph: Peripherals;
  private readonly paths: CorePath[];
  /** The cores' path out of the cluster (`reqrsp_mux`, `reqrsp_to_axi`, crossbar, memory). */
  readonly narrow: NarrowAxi;
  private readonly heads: (DataReq | null)[];
  private extCore = -1;
  private readonly cycleQ: Reg;
  readonly icache: SnitchIcache;
  /** The wide AXI read path to DRAM, shared by the DMA and the instruction cache. */
  readonly wide: WideAxi;
  private readonly fetchPcs: Float64Array;
  private readonly fetchValid: boolean[];
  private readonly fetchPorts: { ready: boolean; word: number }[];
  /** Per hart: fetch stall cycles spent waiting for a line being refilled from DRAM. */
  readonly fetchStallRefill: Float64Array;
  tohostAddr = -1;
  symbols = new Map<string, number>();
  tohost = 0;
  /** Called in the combinational phase before the TCDM arbitration (accelerator ports). */
  beforeTcdm: (() => void) | null = null;
  /** Called in the combinational phase after the TCDM arbitration (accelerator grants). */
  afterTcdm: (() => void) | null = null;
  /** Called in the next-state phase (an attached accelerator's `update`). */
  afterUpdate: (() => void) | null = null;
  /** An extra slave on the narrow external path (the HWPE configuration port). */
  extTarget: ExtTarget | null = null;

  constructor(cfg: Partial<ClusterConfig> = {}) {
    super(null, 'snitch_cluster');
    this.cfg = { ...DEFAULT_CLUSTER, ...cfg };
    const n = this.cfg.computeCores;
    this.mem = new ClusterMemory(this.cfg.dramSize, n + 1);
    this.cores = [];
    for (let i = 0; i <= n; i++) {
      const core = new Snitch(this, `gen_core${i}.i_snitch`, {
        hartId: i,
        bootAddr: this.cfg.bootAddr,
        outstandingLoads: 1,
        outstandingMem: 4,
        xdma: i === n,
      });
      this.cores.push(core);
    }
    this.dmaCore = this.cores[n]!;
    this.tcdm = new Tcdm(this, 'i_tcdm_interconnect', this.mem, n + 1, this.cfg.accelPorts);
    this.muldiv = new SharedMulDiv(this, 'i_snitch_hive.i_snitch_shared_muldiv', this.cores);
    this.wide = new WideAxi(this.cfg.dramLatency - HARNESS_DRAM_LATENCY);
    this.dma = new Idma(
      this,
      'gen_dma.i_idma',
      this.mem,
      this.tcdm,
      this.dmaCore,
      () => this.muldiv.rspCore === n,
      this.wide,
    );
    this.periph = new Peripherals(this, 'i_snitch_cluster_peripheral', n + 1, this.tcdm);
    this.paths = this.cores.map((c, i) => new CorePath(c, this.tcdm.ports[i]!));
    this.narrow = new NarrowAxi(n + 1, this.cfg.dramLatency - HARNESS_DRAM_LATENCY, {
      read: (a, size) => this.mem.read(a, size),
      write: (a, size, data) => {
        this.mem.write(a, size, data);
        if (a === this.tohostAddr && data !== 0) this.tohost = data >>> 0;
      },
      amo: (a, op, operand) => this.mem.amo(0, a, op, operand),
      isPeriph: (a) => this.mem.isPeriph(a),
      periphRead: (a) => {
        const off = a - PERIPH_BASE;
        return this.periph.read(off & ~3) >>> ((off & 3) * 8);
      },
      periphWrite: (a, _size, data) => this.periph.write(a - PERIPH_BASE, data),
      target: (r, rsp) =>
        this.extTarget && this.extTarget.contains(r.addr)
          ? this.extTarget.access(r.write, r.addr, r.size, r.data, r.core, rsp)
          : null,
    });
    this.heads = new Array<DataReq | null>(n + 1).fill(null);
    this.cycleQ = this.reg('cycle_q', 52);
    this.icache = new SnitchIcache(
      this,
      'i_snitch_hive.i_snitch_icache',
      n + 1,
      (a) => this.mem.read(a, 4),
      this.wide,
    );
    this.fetchPcs = new Float64Array(n + 1);
    this.fetchValid = new Array<boolean>(n + 1).fill(false);
    this.fetchPorts = this.cores.map((c) => c.inst);
    this.fetchStallRefill = new Float64Array(n + 1);
  }

  /** The accelerator's TCDM ports. */
  get accelPorts(): TcdmPort[] {
    return this.tcdm.accelPorts;
  }

  /** `inst_ready`/`inst_data` of every core for this cycle. */
  private fetch(): void {
    const cores = this.cores;
    if (this.cfg.idealFetch) {
      for (const c of cores) {
        c.inst.ready = true;
        c.inst.word = this.mem.read((c.pc.cur & ~3) >>> 0, 4);
      }
      return;
    }
    for (let i = 0; i < cores.length; i++) {
      const c = cores[i]!;
      // an asleep core waits in wfi or at the barrier (no fetch) and keeps its pc
      if (c.asleep) {
        this.fetchValid[i] = false;
        continue;
      }
      this.fetchPcs[i] = c.pcQ;
      this.fetchValid[i] = c.wfiQ === 0 && c.csrStallQ === 0;
    }
    this.icache.fetch(this.fetchPcs, this.fetchValid, this.fetchPorts);
    for (let i = 0; i < cores.length; i++)
      if (this.fetchValid[i] && !this.fetchPorts[i]!.ready && this.icache.refilling(this.fetchPcs[i]! >>> 5))
        this.fetchStallRefill[i]!++;
  }

  /** Loads an ELF image (or its bytes) and points every core at its entry. */
  loadElf(image: ElfImage | Uint8Array, name = 'ELF file'): ElfImage {
    const img = image instanceof Uint8Array ? parseElf(image, name) : image;
    for (const s of img.segments) this.mem.load(s.vaddr, s.data, s.memSize);
    for (const c of this.cores) {
      c.pc.cur = img.entry >>> 0;
      c.pc.nxt = img.entry >>> 0;
    }
    this.tohostAddr = img.symbols.get('tohost') ?? -1;
    this.symbols = img.symbols;
    return img;
  }

  /** Address of an ELF symbol of the loaded program. */
  symbol(name: string): number {
    const a = this.symbols.get(name);
    if (a === undefined) throw new InputError(`the program has no symbol '${name}'`);
    return a;
  }

  /** Writes bytes to memory at a symbol (plus a byte offset). */
  writeSymbol(name: string, data: ArrayBufferView, offset = 0): void {
    this.mem.load(this.symbol(name) + offset, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }

  /** Reads `len` bytes at a symbol. */
  readSymbol(name: string, len: number, offset = 0): Uint8Array {
    const a = this.symbol(name) + offset;
    const out = new Uint8Array(len);
    for (let i = 0; i < len; i++) out[i] = this.mem.read(a + i, 1);
    return out;
  }

  override evaluate(): void {
    const periph = this.periph;
    periph.evaluate();
    let barrierIn = 0;
    this.fetch();
    const gate = this.cfg.coreClockGate;
    const last = this.cores.length - 1;
    for (let i = 0; i < this.cores.length; i++) {
      const c = this.cores[i]!;
      c.barrierIn = periph.barrierOut;
      c.mcip = periph.mcip(i);
      if (c.asleep) {
        if (!c.wakes()) continue; // its outputs hold: no issue, no barrier arrival, no flush
        c.wake();
      } else if (
        gate &&
        c.waiting() &&
        this.muldiv.holdsNothingOf(i) &&
        (i !== last || this.dma.frontendIdle)
      ) {
        c.sleep();
        continue;
      }
      c.evaluate();
      if (c.barrierOut) barrierIn |= 1 << i;
      if (c.flushI && !this.cfg.idealFetch) this.icache.flush(i);
    }
    periph.barrierIn = barrierIn;
    for (let i = 0; i < this.paths.length; i++) {
      const p = this.paths[i]!;
      this.routeRequest(p);
      this.heads[i] = p.extHead;
    }
    this.extCore = this.narrow.arbitrate(this.heads);
    this.muldiv.evaluate(); // before the DMA frontend: both may answer the DMA core
    this.dma.evaluate(); // decides the DMA's superbanks; must precede the TCDM arbitration
    if (this.beforeTcdm) this.beforeTcdm();
    this.tcdm.evaluate();
    if (this.afterTcdm) this.afterTcdm();
  }

  /** `reqrsp_demux`: offers the head of the core's request cut to the TCDM or the outside. */
  private routeRequest(p: CorePath): void {
    const q = p.core.dreq;
    p.toTcdm = false;
    p.extHead = null;
    p.port.qValid = false;
    if (!q.valid) return;
    const r = q.first;
    if (p.orderCount >= 4) return; // the demux's response-order FIFO is full
    if (this.mem.isTcdm(r.addr)) {
      const port = p.port;
      port.qValid = true;
      port.addr = r.addr;
      port.write = r.write;
      port.size = r.size;
      port.dataLo = r.data;
      port.dataHi = 0;
      port.amo = r.amo;
      port.core = r.core;
      p.toTcdm = true;
    } else p.extHead = r;
  }

  override update(): void {
    const cyc = this.cycleQ.cur;
    this.cycleQ.nxt = cyc + 1;
    const cores = this.cores;
    for (let i = 0; i < cores.length; i++) {
      const c = cores[i]!;
      if (c.asleep) c.sleepCycle();
      else c.update();
    }
    if (!this.cfg.idealFetch) this.icache.update();
    this.tcdm.update();
    this.muldiv.update();
    this.dma.update();
    this.periph.update();
    if (this.afterUpdate) this.afterUpdate();
    this.wide.step();
    if (this.extCore >= 0) {
      const p = this.paths[this.extCore]!;
      this.narrow.accept(p.core.dreq.first);
      p.core.dreq.pop();
      p.sent(1);
    }
    this.narrow.update();
    const done = this.narrow.done;
    for (let k = 0; k < done.length; k++) {
      const x: NarrowAccess = done[k]!;
      const write = x.kind === Ext.Write || x.kind === Ext.PeriphWrite || (x.kind === Ext.Target && x.write);
      this.paths[x.core]!.extRsp.push(x.rdata, write);
      this.narrow.recycle(x);
    }
    for (const p of this.paths) {
      // the TCDM answers one cycle after the grant
      if (p.port.pValid) p.tcdmRsp.push(p.port.pDataLo, p.port.pWrite);
      if (p.toTcdm && p.port.qReady) {
        p.core.dreq.pop();
        p.sent(0);
      }
      p.deliver();
    }
  }

  /** Runs until `tohost` is written (or `maxCycles`); returns cycles and the exit code. */
  run(maxCycles: number, onCycle?: (cycle: number) => void): RunResult {
    const sim = this.simulator();
    const start = sim.cycle;
    while (this.tohost === 0 && sim.cycle - start < maxCycles) {
      sim.step();
      if (onCycle) onCycle(sim.cycle);
    }
    const finished = this.tohost !== 0;
    const v = this.tohost;
    return {
      cycles: sim.cycle - start,
      tohost: v,
      finished,
      exitCode: finished ? (v === 1 ? 0 : v >>> 1) : -1,
    };
  }
  private sim: Simulator | null = null;

  /** The simulator driving this cluster (created on first use). */
  simulator(): Simulator {
    return this.sim ?? (this.sim = new Simulator(this));
  }

  static fromElf(bytes: Uint8Array, cfg: Partial<ClusterConfig> = {}, name = 'ELF file'): Cluster {
    const c = new Cluster(cfg);
    c.loadElf(bytes, name);
    if (c.tohostAddr < 0) throw new InputError(`${name}: no 'tohost' symbol (needed to end the run)`);
    return c;
  }
}

export { TCDM_BASE, PERIPH_BASE };
