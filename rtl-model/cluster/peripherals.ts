/**
 * `snitch_cluster_peripheral` (register offsets from its register package) and the hardware
 * barrier `snitch_barrier`.
 *
 * Registers (64-bit aligned, offsets from the peripheral base):
 *   0x000 + 8i  PERF_COUNTER_ENABLE[i]  bit 0 cycle, bit 1 tcdm_accessed, bit 2 tcdm_congested
 *   0x080 + 8i  HART_SELECT[i]          (stored, no per-hart events modelled)
 *   0x100 + 8i  PERF_COUNTER[i]         48-bit counters (low word readable/writable)
 *   0x180       CL_CLINT_SET            write: set cluster-local interrupt bits (one per core)
 *   0x188       CL_CLINT_CLEAR          write: clear them
 *   0x190       HW_BARRIER              reads 0 (this cluster synchronises through CSR 0x7C2)
 *   0x198       ICACHE_PREFETCH_ENABLE  stored
 *   0x1a0       HWPE_EVT                read: the HWPE's event lines (2 per core, core i at [2i+1:2i])
 *   0x1a8       HWPE_BUSY               read: the HWPE's busy_o
 * `cl_clint_q` drives each core's `irq.mcip` from the next cycle on.
 *
 * Barrier: each core's CSR write to 0x7C2 sets its arrival flop; when all flops are set
 * `barrier_o` rises (combinationally from the flops), releases every waiting core's `csr_stall`
 * and clears the flops at the same edge.
 */
import { Module, type Reg, RegArray } from '../sim/kernel.ts';
import type { Tcdm } from './tcdm.ts';

const NUM_PERF = 16;

export class Peripherals extends Module {
  readonly clint: Reg;
  private readonly perfEnable: RegArray;
  private readonly hartSelect: RegArray;
  private readonly perf: RegArray;
  private readonly prefetch: Reg;
  readonly arrival: Reg;
  /** `barrier_o` of `snitch_barrier` (wire). */
  barrierOut = false;
  /** `barrier_i` from the cores (wire, set by the cluster each cycle). */
  barrierIn = 0;
  /** `hwpe_evt_i` / `hwpe_busy_i` (wires, driven by an attached HWPE each cycle). */
  hwpeEvt = 0;
  hwpeBusy = 0;

  constructor(
    parent: Module | null,
    name: string,
    readonly numCores: number,
    private readonly tcdm: Tcdm,
  ) {
    super(parent, name);
    this.clint = this.reg('cl_clint_q', 32);
    this.perfEnable = this.regArray('perf_counter_enable_q', 32, NUM_PERF, NUM_PERF);
    this.hartSelect = this.regArray('hart_select_q', 32, NUM_PERF, NUM_PERF);
    this.perf = this.regArray('perf_counter_q', 48, NUM_PERF, NUM_PERF);
    this.prefetch = this.reg('icache_prefetch_enable_q', 1, 1);
    this.arrival = this.reg('i_snitch_barrier.arrival_q', numCores);
  }

  mcip(core: number): boolean {
    return ((this.clint.cur >>> core) & 1) === 1;
  }

  // a leaf module: evaluate and update are its own logic
  override evaluate(): void {
    this.comb();
  }
  override update(): void {
    this.seq();
  }

  protected override comb(): void {
    const all = this.numCores >= 32 ? 0xffffffff : (1 << this.numCores) - 1;
    this.barrierOut = (this.arrival.cur & all) === all;
  }

  protected override seq(): void {
    this.arrival.nxt = this.barrierOut ? 0 : (this.arrival.cur | this.barrierIn) >>> 0;
    const acc = this.tcdm.accessedThisCycle;
    const cong = this.tcdm.congestedThisCycle;
    for (let i = 0; i < NUM_PERF; i++) {
      const en = this.perfEnable.cur[i]!;
      if (en === 0) continue;
      const inc = en & 1 ? 1 : en & 2 ? acc : en & 4 ? cong : 0;
      if (inc) this.perf.set(i, (this.perf.cur[i]! + inc) % 2 ** 48);
    }
  }

  /** A register read (narrow port); returns the low 32 bits of the addressed word. */
  read(offset: number): number {
    const w = offset & ~7;
    const hi = (offset & 4) !== 0;
    let v = 0;
    if (w < 0x80) v = this.perfEnable.cur[w >>> 3]!;
    else if (w < 0x100) v = this.hartSelect.cur[(w - 0x80) >>> 3]!;
    else if (w < 0x180) v = this.perf.cur[(w - 0x100) >>> 3]!;
    else if (w === 0x198) v = this.prefetch.cur;
    else if (w === 0x1a0) v = this.hwpeEvt;
    else if (w === 0x1a8) v = this.hwpeBusy;
    return hi ? Math.floor(v / 2 ** 32) >>> 0 : v >>> 0;
  }

  /** A register write; takes effect at the next edge. */
  write(offset: number, value: number): void {
    if (offset & 4) return; // upper halves are read-only here
    const w = offset & ~7;
    if (w < 0x80) this.perfEnable.set(w >>> 3, value >>> 0);
    else if (w < 0x100) this.hartSelect.set((w - 0x80) >>> 3, value >>> 0);
    else if (w < 0x180) this.perf.set((w - 0x100) >>> 3, value >>> 0);
    else if (w === 0x180) this.clint.nxt = (this.clint.nxt | value) >>> 0;
    else if (w === 0x188) this.clint.nxt = (this.clint.nxt & ~value) >>> 0;
    else if (w === 0x198) this.prefetch.nxt = value & 1;
  }
}
