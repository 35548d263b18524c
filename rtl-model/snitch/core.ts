/**
 * `snitch`: the single-stage, in-order RV32 integer core (`hw/snitch/src/snitch.sv`) with its
 * load/store unit (`snitch_lsu.sv`) and the register cuts that `snitch_cc.sv` puts on its data and
 * offload ports.
 *
 * One instruction is fetched, decoded, executed and (for ALU results) written back in the cycle it
 * issues. It issues when (`valid_instr`):
 *   - the core is neither asleep (`wfi_q`) nor waiting at the hardware barrier (`csr_stall_q`),
 *   - no source register and not the register named by bits 11:7 (the destination field, checked
 *     for every instruction, stores and branches included: `uses_rd`) is marked busy in the
 *     scoreboard (`sb_q`), which holds the destinations of in-flight loads and offloaded
 *     instructions,
 * and it is not held by the unit it goes to (`lsu_stall`, `acc_stall`, a `fence` waiting for the
 * LSU to drain). There is no bypass: a register cleared from the scoreboard at an edge is readable
 * in the following cycle.
 *
 * The register file has one write port; its sources are prioritised as in `snitch.sv`: the
 * issuing instruction (`retire_i`), then a returning load (`retire_load`), then an offload result
 * (`retire_acc`). A load or offload result waits in its response cut while the port is busy.
 *
 * LSU (`snitch_lsu.sv`): a load needs a free entry of the load address queue (`NumIntOutstandingLoads`
 * = 1 in the cluster configuration) and any access a free entry of the memory queue
 * (`NumIntOutstandingMem` = 4). Misaligned halfword/word accesses raise a trap (load/store address
 * misaligned), the access is not sent.
 *
 * Instruction fetch: `inst_addr_o` is `pc_q`; the parent drives `inst` (`inst_ready_i` and the
 * word) before `evaluate` from the instruction cache (`SnitchIcache`), and the instruction issues
 * in the cycle it is ready. `fence.i` pulses `flushI` in the cycle it issues.
 */
import { ClockGate, Module, RegBank, type CommitsWhenWritten, type Probe, type Reg } from '../sim/kernel.ts';
import { RegFifo } from './fifo.ts';
import { Amo, DecodeCache, Kind, type Decoded, type Exec } from './isa.ts';
import { AccReq, AccRsp, DataReq, DataRsp } from './ports.ts';

/** Configuration of one core (from the cluster's hjson and `snitch_cc` parameters). */
export interface CoreConfig {
  hartId: number;
  bootAddr: number;
  /** Outstanding loads (load address queue depth). */
  outstandingLoads: number;
  /** Outstanding memory accesses (memory queue depth). */
  outstandingMem: number;
  /** Xdma: this core may issue DMA instructions. */
  xdma: boolean;
}

/** Why the core did not issue in a cycle. */
export const enum Stall {
  None,
  Dependency,
  Lsu,
  Offload,
  Fence,
  Barrier,
  Wfi,
  Fetch,
}

// CSR addresses (privileged spec and Snitch's custom barrier CSR).
const CSR_MSTATUS = 0x300;
const CSR_MISA = 0x301;
const CSR_MIE = 0x304;
const CSR_MTVEC = 0x305;
const CSR_MSCRATCH = 0x340;
const CSR_MEPC = 0x341;
const CSR_MCAUSE = 0x342;
const CSR_MTVAL = 0x343;
const CSR_MIP = 0x344;
const CSR_MHARTID = 0xf14;
const CSR_MCYCLE = 0xb00;
const CSR_MINSTRET = 0xb02;
const CSR_MCYCLEH = 0xb80;
const CSR_MINSTRETH = 0xb82;
const CSR_CYCLE = 0xc00;
const CSR_INSTRET = 0xc02;
const CSR_CYCLEH = 0xc80;
const CSR_INSTRETH = 0xc82;
export const CSR_BARRIER = 0x7c2;

/** Names of the stall causes, in `Stall` order. */
export const STALL_NAMES = [
  'none',
  'dependency',
  'lsu',
  'offload',
  'fence',
  'barrier',
  'wfi',
  'fetch',
] as const;

/** mcause values. */
export const enum Cause {
  InstrAddrMisaligned = 0,
  IllegalInstr = 2,
  Breakpoint = 3,
  LoadAddrMisaligned = 4,
  StoreAddrMisaligned = 6,
  EnvCallU = 8,
  EnvCallM = 11,
  MachineClusterIrq = 19,
}
const MCI = 19;

/** Entries of the predecode table (a simulation cache, no hardware counterpart). */
const PREDECODE = 1 << 14;

const PRIV_U = 0;
const PRIV_M = 3;

/**
 * The core's register file as state of the kernel: written in place (see `Snitch.gpr`), so there
 * is nothing to commit at the edge; the kernel's reset clears it.
 */
export class GprFile implements CommitsWhenWritten {
  readonly x = new Uint32Array(32);
  commit(): void {}
  commitVia(): void {}
  changes(): boolean {
    return false;
  }
  reset(): void {
    this.x.fill(0);
  }
}

/** A register of the core kept in two of its fields (see `Snitch.pcQ`), seen as a register. */
export class CoreReg implements Probe {
  constructor(
    private readonly core: Record<string, number>,
    readonly name: string,
    readonly width: number,
    private readonly q: string,
    private readonly d: string,
    readonly resetValue: number,
  ) {}
  get cur(): number {
    return this.core[this.q]!;
  }
  set cur(v: number) {
    this.core[this.q] = v;
  }
  get nxt(): number {
    return this.core[this.d]!;
  }
  set nxt(v: number) {
    this.core[this.d] = v;
  }
  read(): number {
    return this.cur;
  }
  reset(): void {
    this.cur = this.resetValue;
    this.nxt = this.resetValue;
  }
}

/** The core's field registers as kernel state: committed by the core itself, reset by the kernel. */
class CoreRegs implements CommitsWhenWritten {
  readonly regs: CoreReg[] = [];
  commit(): void {}
  commitVia(): void {}
  changes(): boolean {
    return false;
  }
  reset(): void {
    for (const r of this.regs) r.reset();
  }
}

export class Snitch extends Module {
  // ---- the registers of the issue and the LSU (q: the flop, d: its next value) ----
  // Read and written every cycle, they are fields of the core itself rather than register objects
  // of their own (one object fewer to reach per register); `pc`, `sb` etc. below show them as
  // registers to traces, resets and tests.
  pcQ = 0;
  private pcD = 0;
  private sbQ = 0;
  private sbD = 0;
  private cycQ = 0;
  private cycD = 0;
  private instretQ = 0;
  private instretD = 0;
  private memqQ = 0;
  private memqD = 0;
  private kindsQ = 0;
  private kindsD = 0;
  private laqQ = 0;
  private laqD = 0;
  private laqRdQ = 0;
  private laqRdD = 0;
  private laqSizeQ = 0;
  private laqSizeD = 0;
  private laqSignedQ = 0;
  private laqSignedD = 0;
  /** `wfi_q` and `csr_stall_q` (the waits), committed at the end of `seq` when written. */
  wfiQ = 0;
  private wfiD = 0;
  csrStallQ = 0;
  private csrStallD = 0;
  private waitWritten = false;
  // ---- architectural and control registers (snitch.sv) ----
  /** The registers above as traces, resets and tests see them. */
  readonly pc: CoreReg;
  /**
   * The register file (`x0`..`x31`, unsigned). Written in the next-state phase only, by the core
   * alone, at most once per cycle (one write port) and after every read of that phase, so the
   * write lands in place: nothing reads the file between it and the edge.
   */
  readonly gpr: GprFile;
  /** Scoreboard: bit r set while register r awaits a load or offload result. */
  readonly sb: CoreReg;
  readonly wfi: CoreReg;
  readonly csrStall: CoreReg;
  readonly priv: Reg;
  readonly mie: Reg; // mstatus.MIE
  readonly mpie: Reg;
  readonly mpp: Reg;
  readonly cie: Reg; // mie.MCIE (cluster-local interrupt enable)
  readonly mtvec: Reg;
  readonly mepc: Reg;
  readonly mcause: Reg;
  readonly mscratch: Reg;
  readonly mtval: Reg;
  /** 64-bit cycle and retired-instruction counters, kept as numbers (exact to 2^53). */
  readonly cycleQ: CoreReg;
  readonly instret: CoreReg;
  // ---- LSU queues ----
  /** Load address queue occupancy (entries: loads sent, response not yet consumed). */
  readonly laq: CoreReg;
  /** Memory queue occupancy (all accesses sent, response not yet back). */
  readonly memq: CoreReg;
  /** Kind of each in-flight access in order: 1 = load, 0 = store (bit i = i-th oldest). */
  readonly memKinds: CoreReg;
  /** Destination register of the load in the load address queue, and its size/sign. */
  readonly laqRd: CoreReg;
  readonly laqSize: CoreReg;
  readonly laqSigned: CoreReg;
  // ---- cuts (snitch_cc.sv: RegisterCoreReq/Rsp, RegisterOffloadReq/Rsp) ----
  readonly dreq: RegFifo<DataReq>;
  readonly drsp: RegFifo<DataRsp>;
  readonly accReq: RegFifo<AccReq>;
  readonly accRsp: RegFifo<AccRsp>;

  // ---- inputs driven by the cluster before `evaluate` ----
  /** `inst_ready_i` and `inst_data_i` of this cycle (driven by the instruction cache). */
  readonly inst = { ready: true, word: 0 };
  barrierIn = false;
  mcip = false;

  // ---- wires computed in `comb` ----
  barrierOut = false;
  /** `flush_i_valid_o`: a `fence.i` issues in this cycle. */
  flushI = false;
  stall: Stall = Stall.None;
  private issue = false;
  private cur: Decoded | null = null;
  private lsAddr = 0;
  private trap = -1;
  private retireI = false;

  private readonly dec = new DecodeCache();
  private readonly predecoded: (Decoded | undefined)[] = new Array<Decoded | undefined>(PREDECODE);
  private readonly x: Exec = { a: 0, b: 0, pc: 0, result: 0, target: -1 };

  // ---- statistics ----
  readonly nInstr: { value: number };
  readonly nStall: { value: number }[];
  readonly nLoads: { value: number };
  readonly nStores: { value: number };
  readonly nOffload: { value: number };
  /** Optional per-instruction trace hook (cycle, pc, decoded). */
  onRetire: ((pc: number, d: Decoded) => void) | null = null;
  /** Optional hook on every trap taken (pc of the trapping instruction, mcause); timing unchanged. */
  onTrap: ((pc: number, cause: number) => void) | null = null;

  // ---- simulation only: the core's clock, stopped while the core provably waits ----
  /** The core's clock, disabled while `asleep` (the core commits its registers itself). */
  readonly clock = new ClockGate();
  /**
   * The field registers above (issue, LSU, waits), which nothing reads between the core's
   * next-state phase and the edge (the fetch and the cluster read them in the combinational
   * phase): the core commits them at the end of `seq`, those of the LSU and the waits only in
   * cycles it wrote them (`lsuWritten`, `waitWritten`). The kernel only resets them.
   */
  private readonly own = new CoreRegs();
  private lsuWritten = false;
  /** The registers written in few cycles (see `RegBank`). */
  private readonly rare = new RegBank();
  /** Not evaluated, updated or committed this cycle (see `waiting`, `sleep`). */
  asleep = false;

  constructor(
    parent: Module | null,
    name: string,
    readonly cfg: CoreConfig,
  ) {
    super(parent, name);
    // the registers of the issue and the LSU: fields of the core, committed at the end of `seq`
    this.state.push(this.own);
    this.pc = this.coreReg('pc_q', 32, 'pcQ', 'pcD', cfg.bootAddr);
    this.gpr = new GprFile();
    this.state.push(this.gpr);
    this.sb = this.coreReg('sb_q', 32, 'sbQ', 'sbD', 0);
    // the machine-mode CSRs change in few cycles: every write touches `rare`
    const rare = this.rare;
    this.state.push(rare);
    this.wfi = this.coreReg('wfi_q', 1, 'wfiQ', 'wfiD', 0);
    this.csrStall = this.coreReg('csr_stall_q', 1, 'csrStallQ', 'csrStallD', 0);
    this.priv = this.bankReg(rare, 'priv_lvl_q', 2, PRIV_M);
    this.mie = this.bankReg(rare, 'ie_q', 1);
    this.mpie = this.bankReg(rare, 'pie_q', 1);
    this.mpp = this.bankReg(rare, 'mpp_q', 2, PRIV_M);
    this.cie = this.bankReg(rare, 'cie_q', 1);
    this.mtvec = this.bankReg(rare, 'tvec_q', 32);
    this.mepc = this.bankReg(rare, 'epc_q', 32);
    this.mcause = this.bankReg(rare, 'cause_q', 32);
    this.mscratch = this.bankReg(rare, 'scratch_q', 32);
    this.mtval = this.bankReg(rare, 'mtval_q', 32);
    this.cycleQ = this.coreReg('cycle_q', 52, 'cycQ', 'cycD', 0);
    this.instret = this.coreReg('instret_q', 52, 'instretQ', 'instretD', 0);
    this.laq = this.coreReg('laq_usage', 4, 'laqQ', 'laqD', 0);
    this.memq = this.coreReg('mem_usage', 4, 'memqQ', 'memqD', 0);
    this.memKinds = this.coreReg('mem_kinds', 16, 'kindsQ', 'kindsD', 0);
    this.laqRd = this.coreReg('laq_tag', 5, 'laqRdQ', 'laqRdD', 0);
    this.laqSize = this.coreReg('laq_size', 3, 'laqSizeQ', 'laqSizeD', 0);
    this.laqSigned = this.coreReg('laq_sign_ext', 1, 'laqSignedQ', 'laqSignedD', 0);
    this.dreq = new RegFifo(`${this.path}.i_reqrsp_iso.req`, 2, () => new DataReq());
    // response cut plus the `stream_to_mem` response buffer behind it
    this.drsp = new RegFifo(`${this.path}.i_reqrsp_iso.rsp`, 4, () => new DataRsp());
    this.accReq = new RegFifo(`${this.path}.i_spill_register_acc_demux_req`, 2, () => new AccReq());
    this.accRsp = new RegFifo(`${this.path}.i_spill_register_acc_demux_resp`, 2, () => new AccRsp());
    this.state.push(this.dreq, this.drsp, this.accReq, this.accRsp);
    this.port('inst_valid', 1, () => (this.issue ? 1 : 0));
    this.port('stall_cause', 3, () => this.stall);
    this.nInstr = this.counter('retired_instr');
    this.nStall = [];
    for (const c of STALL_NAMES) {
      this.nStall.push(this.counter(`stall_${c}`));
    }
    this.nLoads = this.counter('loads');
    this.nStores = this.counter('stores');
    this.nOffload = this.counter('offloads');
    this.gate = this.clock;
  }

  /** Register value (unsigned). */
  reg32(r: number): number {
    return this.gpr.x[r]!;
  }

  private get interruptPending(): boolean {
    return this.mcip && this.cie.cur === 1;
  }

  /** A register held in the fields `q` and `d` of the core, seen as a register. */
  private coreReg(name: string, width: number, q: string, d: string, resetValue: number): CoreReg {
    const r = new CoreReg(
      this as unknown as Record<string, number>,
      `${this.path}.${name}`,
      width,
      q,
      d,
      resetValue,
    );
    r.reset();
    this.own.regs.push(r);
    this.probes.push(r);
    return r;
  }

  // a leaf module: evaluate and update are its own logic
  override evaluate(): void {
    this.comb();
  }
  override update(): void {
    this.seq();
  }

  // ---- the stopped clock (simulation only) ----
  //
  // A core asleep in wfi or stalled at the barrier issues nothing. If, at the start of a cycle, it
  // also has nothing in flight (no memory access, no offloaded instruction: its queues, cuts and
  // scoreboard are empty, and the units it offloads to hold nothing of it, which the cluster
  // checks) and the event that ends the wait is absent, then the cycle computes the same outputs
  // (no issue, no request, the same stall cause) and the same next state, except the cycle
  // counter, and so does every following cycle until that event: a pending interrupt for wfi,
  // `barrier_i` for the barrier. Nothing else can reach the core's state while it waits: every
  // response it could get belongs to something in flight. So the cluster stops calling it
  // (`sleep`), counts the skipped cycles as the clocked core would (`sleepCycle`: the cycle
  // counter and the stall counter of the cause), and calls it again from the first cycle the
  // event is there (`wakes`, `wake`), before evaluating it in that cycle.

  /**
   * Stalled in wfi or at the barrier, and neither wait ends in this cycle (this cycle's `barrierIn`
   * and `mcip` are driven): the cycle leaves `wfi_q` and `csr_stall_q` as they are.
   */
  private held(): boolean {
    const w = this.wfiQ === 1;
    const b = this.csrStallQ === 1;
    return (w || b) && !(w && this.interruptPending) && !(b && this.barrierIn);
  }

  /** Held in wfi or at the barrier with nothing in flight. */
  waiting(): boolean {
    return (
      this.held() &&
      this.memqQ === 0 &&
      this.sbQ === 0 &&
      !this.drsp.valid &&
      !this.accReq.valid &&
      !this.accRsp.valid
    );
  }

  /** The event that ends the wait is there (or the core was reset). */
  wakes(): boolean {
    return !this.held();
  }

  /** Stops the clock at the start of a cycle in which `waiting()` holds; drives the wait's outputs. */
  sleep(): void {
    this.noIssue();
    this.stall = this.wfiQ === 1 ? Stall.Wfi : Stall.Barrier;
    this.asleep = true;
    this.clock.enabled = false;
  }

  /** The next-state phase of a skipped cycle: what changes in it, the counters. */
  sleepCycle(): void {
    const c = this.cycQ + 1;
    this.cycQ = c;
    this.cycD = c;
    this.nStall[this.stall]!.value++;
  }

  /** Restarts the clock (before the cycle's evaluation). */
  wake(): void {
    this.asleep = false;
    this.clock.enabled = true;
  }

  /** The outputs of a cycle in which nothing issues (the stall cause aside). */
  private noIssue(): void {
    this.issue = false;
    this.trap = -1;
    this.retireI = false;
    this.barrierOut = false;
    this.flushI = false;
    this.cur = null;
  }

  protected override comb(): void {
    this.noIssue();
    if (this.wfiQ) {
      this.stall = Stall.Wfi;
      return;
    }
    if (this.csrStallQ) {
      this.stall = Stall.Barrier;
      return;
    }
    if (!this.inst.ready) {
      this.stall = Stall.Fetch;
      return;
    }
    const pc = this.pcQ;
    const word = this.inst.word;
    // predecoded instruction per fetch address, checked against the fetched word
    const slot = (pc >>> 2) & (PREDECODE - 1);
    let d = this.predecoded[slot];
    if (d === undefined || d.word !== word) this.predecoded[slot] = d = this.dec.get(word);
    this.cur = d;
    const op = d.op;
    // Scoreboard: operands and destination must not await a result. `snitch.sv` sets `uses_rd`
    // from the default `write_rd` before decoding, so every instruction (stores and branches
    // too) waits while the register named by its bits 11:7 is busy.
    const sb = this.sbQ;
    if (
      sb !== 0 &&
      ((op.readsRs1 && (sb >>> d.rs1) & 1) || (op.readsRs2 && (sb >>> d.rs2) & 1) || (sb >>> d.rd) & 1)
    ) {
      this.stall = Stall.Dependency;
      return;
    }
    // Interrupts are taken at a valid instruction.
    if (this.interruptPending && (this.mie.cur === 1 || this.priv.cur !== PRIV_M)) {
      this.trap = 0x80000000 + MCI;
      this.issue = true;
      this.stall = Stall.None;
      return;
    }
    switch (op.kind) {
      case Kind.Load:
      case Kind.Store:
      case Kind.Amo: {
        const addr = (this.reg32(d.rs1) + (op.kind === Kind.Amo ? 0 : d.imm)) >>> 0;
        this.lsAddr = addr;
        if ((op.size === 2 && (addr & 1) !== 0) || (op.size === 4 && (addr & 3) !== 0)) {
          this.trap = op.kind === Kind.Store ? Cause.StoreAddrMisaligned : Cause.LoadAddrMisaligned;
          break;
        }
        const isLoad = op.kind !== Kind.Store;
        const ready =
          this.dreq.canPush &&
          this.memqQ < this.cfg.outstandingMem &&
          (!isLoad || this.laqQ < this.cfg.outstandingLoads);
        if (!ready) {
          this.stall = Stall.Lsu;
          return;
        }
        break;
      }
      case Kind.MulDiv:
        if (!this.accReq.canPush) {
          this.stall = Stall.Offload;
          return;
        }
        break;
      case Kind.Dma:
        if (!this.cfg.xdma) this.trap = Cause.IllegalInstr;
        else if (!this.accReq.canPush) {
          this.stall = Stall.Offload;
          return;
        }
        break;
      case Kind.Fence:
        if (this.memqQ !== 0) {
          this.stall = Stall.Fence;
          return;
        }
        break;
      case Kind.FenceI:
        this.flushI = true;
        break;
      case Kind.Branch:
      case Kind.Jump: {
        // Only a taken branch can target a misaligned address (`inst_addr_misaligned` checks
        // `consec_pc`, which is pc+4 for jumps).
        if (op.kind === Kind.Branch) {
          const x = this.x;
          x.a = this.reg32(d.rs1);
          x.b = this.reg32(d.rs2);
          x.pc = pc;
          x.target = -1;
          op.exec!(x, d);
          if (x.target !== -1 && (x.target & 3) !== 0) this.trap = Cause.InstrAddrMisaligned;
        }
        break;
      }
      case Kind.Csr:
        if (d.imm === CSR_BARRIER) this.barrierOut = true;
        break;
      case Kind.Illegal:
        this.trap = Cause.IllegalInstr;
        break;
      case Kind.Ecall:
        this.trap = this.priv.cur === PRIV_M ? Cause.EnvCallM : Cause.EnvCallU + this.priv.cur;
        break;
      case Kind.Ebreak:
        this.trap = Cause.Breakpoint;
        break;
      default:
        break;
    }
    this.issue = true;
    this.stall = Stall.None;
    this.retireI =
      this.trap === -1 &&
      op.writesRd &&
      d.rd !== 0 &&
      (op.kind === Kind.Alu || op.kind === Kind.Jump || op.kind === Kind.Csr);
  }

  protected override seq(): void {
    this.cycD = this.cycQ + 1;
    this.nStall[this.stall]!.value++;
    // Wake-up from WFI (`wfi_d` cleared by a pending interrupt, set by an issuing WFI).
    if (this.wfiQ && this.interruptPending) {
      this.wfiD = 0;
      this.waitWritten = true;
    }
    if (this.csrStallQ && this.barrierIn) {
      this.csrStallD = 0;
      this.waitWritten = true;
    }

    let sbNext = this.sbQ;
    if (this.issue) sbNext = this.execute(sbNext);

    // ---- write-back port: issuing instruction > load return > offload return ----
    const rsp = this.drsp;
    if (rsp.valid) {
      const isLoad = (this.kindsQ & 1) === 1;
      if (!isLoad) {
        rsp.pop(); // store acknowledgements need no write port
        this.retireMem(false);
      } else if (!this.retireI) {
        const r = rsp.first;
        const size = this.laqSizeQ;
        let v = r.data >>> 0;
        if (this.laqSignedQ) v = size === 1 ? (v << 24) >> 24 : size === 2 ? (v << 16) >> 16 : v | 0;
        const rd = this.laqRdQ;
        if (rd !== 0) this.gpr.x[rd] = v;
        sbNext &= ~(1 << rd);
        rsp.pop();
        this.retireMem(true);
        this.retireI = true; // port used
      }
    }
    if (!this.retireI && this.accRsp.valid) {
      const r = this.accRsp.first;
      if (r.rd !== 0) this.gpr.x[r.rd] = r.data;
      sbNext &= ~(1 << r.rd);
      this.accRsp.pop();
    }
    this.sbD = sbNext & ~1;
    // the edge of the core's own registers (nothing reads them before the edge)
    this.cycQ = this.cycD;
    this.sbQ = this.sbD;
    if (this.issue) {
      this.pcQ = this.pcD;
      this.instretQ = this.instretD;
    }
    if (this.waitWritten) {
      this.waitWritten = false;
      this.wfiQ = this.wfiD;
      this.csrStallQ = this.csrStallD;
    }
    if (this.lsuWritten) {
      this.lsuWritten = false;
      this.memqQ = this.memqD;
      this.kindsQ = this.kindsD;
      this.laqQ = this.laqD;
      this.laqRdQ = this.laqRdD;
      this.laqSizeQ = this.laqSizeD;
      this.laqSignedQ = this.laqSignedD;
    }
  }

  /** Bookkeeping of the LSU queues when a response is consumed. */
  private retireMem(load: boolean): void {
    // `memq`/`memKinds` may also be pushed this cycle by `execute`; compose on `nxt`.
    this.lsuWritten = true;
    this.memqD = this.memqD - 1;
    this.kindsD = this.kindsD >>> 1;
    if (load) this.laqD = this.laqD - 1;
  }

  private takeTrap(cause: number): void {
    if (this.onTrap) this.onTrap(this.pcQ, cause >>> 0);
    this.rare.touch();
    this.mepc.nxt = this.pcQ;
    this.mcause.nxt = cause >>> 0;
    this.mpp.nxt = this.priv.cur;
    this.mpie.nxt = this.mie.cur;
    this.mie.nxt = 0;
    this.priv.nxt = PRIV_M;
    this.pcD = (this.mtvec.cur & ~3) >>> 0;
  }

  /** Effects of the issuing instruction at the clock edge. Returns the next scoreboard. */
  private execute(sbIn: number): number {
    const d = this.cur!;
    const op = d.op;
    const pc = this.pcQ;
    let sb = sbIn;
    this.instretD = this.instretQ + 1;
    this.nInstr.value++;
    if (this.onRetire) this.onRetire(pc, d);
    if (this.trap !== -1) {
      this.takeTrap(this.trap);
      return sb;
    }
    let npc = (pc + 4) >>> 0;
    const x = this.x;
    switch (op.kind) {
      case Kind.Alu:
      case Kind.Branch:
      case Kind.Jump:
        x.a = this.reg32(d.rs1);
        x.b = this.reg32(d.rs2);
        x.pc = pc;
        x.result = 0;
        x.target = -1;
        op.exec!(x, d);
        if (this.retireI) this.gpr.x[d.rd] = x.result;
        if (x.target !== -1) npc = x.target;
        break;
      case Kind.Load:
      case Kind.Store:
      case Kind.Amo: {
        const r = this.dreq.push();
        const store = op.kind === Kind.Store;
        r.addr = this.lsAddr;
        r.write = store;
        r.size = op.size!;
        r.data = store || op.kind === Kind.Amo ? this.reg32(d.rs2) : 0;
        r.amo = op.amo ?? Amo.None;
        r.core = this.cfg.hartId;
        const depth = this.memqQ;
        this.lsuWritten = true;
        this.memqD = this.memqQ + 1;
        this.kindsD = this.kindsQ | ((store ? 0 : 1) << depth);
        if (!store) {
          this.laqD = this.laqQ + 1;
          this.laqRdD = d.rd;
          this.laqSizeD = op.size!;
          this.laqSignedD = op.signed ? 1 : 0;
          sb |= 1 << d.rd;
          this.nLoads.value++;
        } else this.nStores.value++;
        break;
      }
      case Kind.MulDiv:
      case Kind.Dma: {
        const r = this.accReq.push();
        r.name = op.name;
        r.mulDiv = op.kind === Kind.MulDiv;
        r.divider = op.divider;
        r.word = d.word;
        r.a = this.reg32(d.rs1);
        r.b = this.reg32(d.rs2);
        r.rd = d.rd;
        r.core = this.cfg.hartId;
        if (op.writesRd) sb |= 1 << d.rd;
        this.nOffload.value++;
        break;
      }
      case Kind.Csr:
        this.csr(d);
        break;
      case Kind.Mret:
        this.rare.touch();
        this.priv.nxt = this.mpp.cur;
        this.mie.nxt = this.mpie.cur;
        this.mpie.nxt = 1;
        this.mpp.nxt = PRIV_U;
        npc = this.mepc.cur;
        break;
      case Kind.Wfi:
        this.wfiD = 1;
        this.waitWritten = true;
        break;
      default:
        break; // fence, fence.i: no architectural effect here
    }
    this.pcD = npc;
    return sb;
  }

  private csrRead(addr: number): number {
    switch (addr) {
      case CSR_MSTATUS:
        return (this.mie.cur << 3) | (this.mpie.cur << 7) | (this.mpp.cur << 11);
      case CSR_MISA:
        return (1 << 30) | (1 << 0) | (1 << 8) | (1 << 12); // RV32 I M A
      case CSR_MIE:
        return this.cie.cur << MCI;
      case CSR_MIP:
        return (this.mcip ? 1 : 0) << MCI;
      case CSR_MTVEC:
        return this.mtvec.cur;
      case CSR_MSCRATCH:
        return this.mscratch.cur;
      case CSR_MEPC:
        return this.mepc.cur;
      case CSR_MCAUSE:
        return this.mcause.cur;
      case CSR_MTVAL:
        return this.mtval.cur;
      case CSR_MHARTID:
        return this.cfg.hartId;
      case CSR_MCYCLE:
      case CSR_CYCLE:
        return this.cycQ >>> 0;
      case CSR_MCYCLEH:
      case CSR_CYCLEH:
        return Math.floor(this.cycQ / 2 ** 32) >>> 0;
      case CSR_MINSTRET:
      case CSR_INSTRET:
        return this.instretQ >>> 0;
      case CSR_MINSTRETH:
      case CSR_INSTRETH:
        return Math.floor(this.instretQ / 2 ** 32) >>> 0;
      default:
        return 0; // unknown CSRs read as zero (`csr_dump`), writes are ignored
    }
  }

  private csrWrite(addr: number, v: number): void {
    this.rare.touch();
    switch (addr) {
      case CSR_MSTATUS:
        this.mie.nxt = (v >>> 3) & 1;
        this.mpie.nxt = (v >>> 7) & 1;
        this.mpp.nxt = (v >>> 11) & 3;
        break;
      case CSR_MIE:
        this.cie.nxt = (v >>> MCI) & 1;
        break;
      case CSR_MTVEC:
        this.mtvec.nxt = (v & ~3) >>> 0;
        break;
      case CSR_MSCRATCH:
        this.mscratch.nxt = v;
        break;
      case CSR_MEPC:
        this.mepc.nxt = (v & ~3) >>> 0;
        break;
      case CSR_MCAUSE:
        this.mcause.nxt = v;
        break;
      case CSR_MTVAL:
        this.mtval.nxt = v;
        break;
      case CSR_BARRIER:
        this.csrStallD = 1;
        this.waitWritten = true;
        break;
      default:
        break;
    }
  }

  private csr(d: Decoded): void {
    const f3 = (d.word >>> 12) & 7;
    const old = this.csrRead(d.imm) >>> 0;
    const src = f3 >= 5 ? d.rs1 : this.reg32(d.rs1);
    let v = old;
    let write = true;
    switch (f3 & 3) {
      case 1:
        v = src;
        break;
      case 2:
        v = old | src;
        write = d.rs1 !== 0;
        break;
      case 3:
        v = old & ~src;
        write = d.rs1 !== 0;
        break;
    }
    if (d.imm === CSR_BARRIER) {
      this.csrStallD = 1;
      this.waitWritten = true;
    } else if (write) this.csrWrite(d.imm, v >>> 0);
    if (this.retireI) this.gpr.x[d.rd] = old;
  }

  override lineTrace(): string {
    if (!this.issue || !this.cur) return `${this.instName}: stall (${STALL_NAMES[this.stall]})`;
    return `${this.instName}: ${this.pcQ.toString(16).padStart(8, '0')} ${this.cur.op.name}`;
  }
}
