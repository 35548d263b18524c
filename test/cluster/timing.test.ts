/**
 * Microbenchmarks pinning the cluster's timing. Every expected figure is derived in the comment
 * next to it from the RTL of the paper's cluster (Xeratec/snitch_cluster, `ita.hjson`:
 * `register_core_req/rsp`, `register_offload_req/rsp` = true, `num_int_outstanding_loads` = 1,
 * `num_int_outstanding_mem` = 4). Core programs measure themselves with `mcycle`: the difference of
 * two `csrr mcycle` is the number of cycles from the first to the second issuing.
 */
import { describe, expect, it } from 'vitest';
import { enc, load, Prog, run, TCDM } from './asm.ts';

const RES = TCDM + 0x1000;

/**
 * These programs run once through code the instruction cache has never seen, so instruction fetch
 * would add its refills to every figure; a perfect instruction memory isolates the pipeline, the
 * interconnect and the DMA (the instruction cache is pinned by the RTL traces in icache.test.ts).
 */
const IDEAL = { idealFetch: true };

/** Core 0 runs `body` between two mcycle reads; returns t1 - t0. */
function measure(body: (p: Prog) => void): number {
  const p = new Prog();
  p.onlyCore(0, 5, 'spin');
  p.li(10, TCDM + 0x2000)
    .li(11, RES)
    .li(12, 100)
    .li(13, 7);
  p.emit(enc.csrrs(20, 0, 0xb00));
  body(p);
  p.emit(enc.csrrs(21, 0, 0xb00), enc.sub(21, 21, 20), enc.sw(21, 11, 0));
  p.pass().spin();
  const { cluster } = run(p, IDEAL);
  return cluster.mem.read(RES, 4);
}

describe('core pipeline', () => {
  it('back-to-back ALU instructions issue one per cycle', () => {
    // snitch.sv is single-stage: an ALU instruction with ready operands sets `valid_instr`, retires
    // through write port 0 (`retire_i`) in the same cycle and the next pc is taken at the edge.
    // 16 dependent addi chain x14 -> x14 with no stall: 16 cycles, plus the csrr itself: 17.
    const n = measure((p) => {
      for (let i = 0; i < 16; i++) p.emit(enc.addi(14, 14, 1));
    });
    expect(n).toBe(17);
  });

  it('load-to-use latency is 4 cycles (3 stall cycles) on the TCDM', () => {
    // c0: lw issues, request enters the core request cut (snitch_cc `i_reqrsp_iso`, RegisterCoreReq);
    // c1: the request leaves the cut, wins its bank in `snitch_tcdm_interconnect`, the SRAM reads at
    //     the edge (`tc_sram_impl` Latency 1);
    // c2: read data on the response, captured by the response cut (RegisterCoreRsp);
    // c3: `lsu_pvalid`: no ALU retires (the add waits), `retire_load` writes the register file and
    //     clears `sb_q[rd]` at the edge;
    // c4: the dependent add sees a clear scoreboard (no bypass) and issues.
    // csrr (c-1) -> lw (c0) -> add (c4) -> csrr (c5): 6.
    const n = measure((p) => p.emit(enc.lw(14, 10, 0), enc.add(15, 14, 14)));
    expect(n).toBe(6);
  });

  it('a store whose bits 11:7 name a register awaiting a load waits for it (uses_rd)', () => {
    // `snitch.sv` assigns `uses_rd = write_rd` while `write_rd` still holds its default 1, before
    // the decode `case` clears `write_rd` for stores and branches: every instruction checks
    // `sb_q[inst[11:7]]`. `sw x15, 12(x10)` has imm[4:0] = 12 in bits 11:7, so it waits for the
    // load of x12 to retire (c3) and issues in c4 like a dependent instruction: 6 as above. With an
    // offset of 4 instead (bits 11:7 = x4, not busy) it issues right after the load: 3.
    const named = measure((p) => p.emit(enc.lw(12, 10, 0), enc.sw(15, 10, 12)));
    const free = measure((p) => p.emit(enc.lw(12, 10, 0), enc.sw(15, 10, 4)));
    expect(named).toBe(6);
    expect(free).toBe(3);
  });

  it('an independent instruction after a load does not stall; a second load waits for the LAQ', () => {
    // independent addi issues in c1 (only sb_q[rd] of the load is set): csrr, lw, addi, csrr = 3
    expect(measure((p) => p.emit(enc.lw(14, 10, 0), enc.addi(15, 15, 1)))).toBe(3);
    // snitch_lsu: the load address queue holds NumIntOutstandingLoads = 1 entry (`fifo_v3`, no
    // push while full); it is popped at the c3 edge when the load retires, so the next load
    // issues at c4: csrr, lw (c0), lw (c4), csrr (c5) = 6.
    expect(measure((p) => p.emit(enc.lw(14, 10, 0), enc.lw(15, 10, 8)))).toBe(6);
  });

  it('stores stream at one per cycle (memory queue of 4 covers the 4-cycle ack)', () => {
    // A store occupies `i_fifo_mem` (NumIntOutstandingMem = 4) from issue (c0) until its ack is
    // consumed (c3, the response passes the same cuts as a load) -> free again at c4: with 4
    // entries a store can issue every cycle. 16 stores + csrr = 17.
    const n = measure((p) => {
      for (let i = 0; i < 16; i++) p.emit(enc.sw(14, 10, 8 * i));
    });
    expect(n).toBe(17);
  });

  it('a load result waits while an ALU instruction holds the write port', () => {
    // Write-back priority in snitch.sv: `retire_i` before `retire_load`. The response is visible at
    // c3; independent ALU instructions issuing in c3, c4, ... keep the port, the load writes in
    // the first cycle without one. After lw (c0): addi x4 (c1..c4), then add using the load:
    // it needs sb clear; the load can only write when an instruction does not retire, which is
    // the cycle the dependent add stalls (c5) -> add issues at c6. csrr..csrr = 1 + 1 + 4 + 1 + 1 = 8.
    const n = measure((p) => {
      p.emit(enc.lw(14, 10, 0));
      for (let i = 0; i < 4; i++) p.emit(enc.addi(16, 16, 1));
      p.emit(enc.add(15, 14, 14));
    });
    expect(n).toBe(8);
  });
});

describe('register-file write port', () => {
  it('a load return wins over an offload return arriving in the same cycle', () => {
    // 100 / 7 (div_shift 4): the result reaches the offload response cut at c8 (see the divider
    // test). A load issued at c5 (after 4 `addi x0` that do not use the port) returns at c8 too.
    // snitch.sv's write-back takes `retire_load` before `retire_acc`: the quotient is written at
    // c9 instead of c8 and the dependent add issues one cycle later than without the load.
    const prog = (withLoad: boolean) =>
      measure((p) => {
        p.emit(enc.div(14, 12, 13));
        for (let i = 0; i < 4; i++) p.emit(enc.addi(0, 0, 0));
        p.emit(withLoad ? enc.lw(15, 10, 0) : enc.addi(0, 0, 0), enc.add(16, 14, 14));
      });
    expect(prog(true) - prog(false)).toBe(1);
  });
});

describe('shared mul/div', () => {
  it('mul-to-use latency is 4 cycles', () => {
    // c0: mul issues into the offload request cut (snitch_cc, RegisterOffloadReq);
    // c1: hive `stream_arbiter` grants it, the bypassed `i_spill_register_muldiv` passes it, the
    //     multiplier registers `result_q`/`valid_q` at the edge;
    // c2: `valid_q` -> response arbiter -> offload response cut (RegisterOffloadRsp);
    // c3: `acc_pvalid` -> `retire_acc` writes, clears sb; c4: dependent add issues.
    // csrr, mul (c0), add (c4), csrr: 6.
    expect(measure((p) => p.emit(enc.mul(14, 12, 13), enc.add(15, 14, 14)))).toBe(6);
  });

  it('independent multiplies stream one per cycle', () => {
    // The multiplier accepts when its output is taken in the same cycle (`ready_o = ~valid_o |
    // ready_i`); the offload cuts take one per cycle; results write back in cycles without an
    // ALU retirement (here none). 8 muls + csrr = 9.
    const n = measure((p) => {
      for (const rd of [14, 15, 16, 17, 18, 19, 22, 23]) p.emit(enc.mul(rd, 12, 13));
    });
    expect(n).toBe(9);
  });

  it('serial divider: 5 + div_shift cycles to use; a zero quotient is fast', () => {
    // 100 / 7: lzc(7) = 29, lzc(100) = 25, div_shift = 4. c1: IDLE loads the operands; c2..c6:
    // DIVIDE runs cnt = 4..0 (5 cycles); c7: FINISH, `out_vld_o` -> response cut; c8: write-back;
    // c9: dependent add. csrr, div (c0), add (c9), csrr = 11.
    expect(measure((p) => p.emit(enc.div(14, 12, 13), enc.add(15, 14, 14)))).toBe(11);
    // 7 / 100: div_shift = 25 - 29 < 0 -> `div_res_zero`: the result is valid in the first DIVIDE
    // cycle (c2), so it behaves like a multiply: 6.
    expect(measure((p) => p.emit(enc.div(14, 13, 12), enc.add(15, 14, 14)))).toBe(6);
    // 0x7fffffff / 1: lzc(1) = 31, lzc(0x7fffffff) = 1, div_shift = 30 -> 11 + 26 = 37.
    expect(
      measure((p) =>
        p
          .li(16, 0x7fffffff)
          .li(17, 1)
          .emit(enc.csrrs(20, 0, 0xb00), enc.divu(14, 16, 17), enc.add(15, 14, 14)),
      ),
    ).toBe(37);
  });

  it('eight cores contend for the shared unit round-robin', () => {
    // All 9 cores leave a hardware barrier together and issue 4 independent muls each; the hive
    // arbiter grants one request per cycle, so 36 muls need 36 grant cycles. The last core's last
    // mul is granted no earlier than cycle 36 after release.
    const p = new Prog();
    p.emit(enc.csrrs(0, 0, 0x7c2)); // barrier
    p.emit(enc.csrrs(20, 0, 0xb00));
    p.li(12, 3).li(13, 5);
    for (let i = 0; i < 4; i++) p.emit(enc.mul(14 + i, 12, 13));
    p.emit(enc.add(18, 14, 15), enc.add(18, 18, 16), enc.add(18, 18, 17));
    p.emit(enc.csrrs(21, 0, 0xb00), enc.sub(21, 21, 20), enc.csrrs(5, 0, 0xf14), enc.slli(5, 5, 2));
    p.li(11, RES).emit(enc.add(11, 11, 5), enc.sw(21, 11, 0), enc.csrrs(0, 0, 0x7c2));
    p.onlyCore(0, 5, 'spin').pass().spin();
    const { cluster } = run(p, IDEAL);
    const t = Array.from({ length: 9 }, (_, i) => cluster.mem.read(RES + 4 * i, 4));
    expect(Math.max(...t)).toBeGreaterThanOrEqual(36);
    expect(cluster.muldiv.nMul.value).toBe(36);
  });
});

/** All 9 cores pass a barrier, then each compute core stores `n` times to `addr(core)`. */
function storeContention(addr: (core: number) => number, n: number): number[] {
  const p = new Prog();
  p.emit(enc.csrrs(5, 0, 0xf14), enc.slli(6, 5, 2));
  p.li(7, 8);
  p.rel('dma', (o) => enc.beq(5, 7, o));
  // per-core base address in x10
  p.li(10, TCDM);
  p.li(9, 0);
  for (let c = 0; c < 8; c++) {
    p.li(7, c);
    p.rel(`skip${c}`, (o) => enc.bne(5, 7, o));
    p.li(10, addr(c));
    p.label(`skip${c}`);
  }
  p.emit(enc.csrrs(0, 0, 0x7c2)); // barrier: all leave together
  p.emit(enc.csrrs(20, 0, 0xb00));
  for (let i = 0; i < n; i++) p.emit(enc.sw(5, 10, 0));
  p.emit(enc.fence(), enc.csrrs(21, 0, 0xb00), enc.sub(21, 21, 20));
  p.li(11, RES).emit(enc.add(11, 11, 6), enc.sw(21, 11, 0));
  p.emit(enc.csrrs(0, 0, 0x7c2));
  p.onlyCore(0, 5, 'spin').pass();
  p.label('dma')
    .emit(enc.csrrs(0, 0, 0x7c2), enc.csrrs(0, 0, 0x7c2))
    .spin('dmaspin');
  p.spin();
  const { cluster } = run(p, IDEAL);
  return Array.from({ length: 8 }, (_, i) => cluster.mem.read(RES + 4 * i, 4));
}

describe('TCDM banks', () => {
  const N = 32;
  it('eight cores on eight different banks: no conflicts, one store per cycle each', () => {
    // Core c writes bank c only (address TCDM + 0x4000 + 8c: bank = (addr >> 3) mod 32 = c).
    // No bank sees two requests, so every core streams as alone: N stores, then the fence waits
    // for the last ack (issued c0 -> ack consumed c3 -> memq empty c4): csrr, N stores, fence
    // (stalls 3 cycles, issues at the 4th), csrr = N + 1 + 4 = 37.
    const t = storeContention((c) => TCDM + 0x4000 + 8 * c, N);
    expect(t).toEqual(Array(8).fill(N + 5));
  });
  it('eight cores on one bank: the bank serves one request per cycle, round-robin', () => {
    // All cores write bank 0 (address TCDM + 0x4000 + 256c). The bank's `rr_arb_tree` grants the
    // requesting input with the smallest index XOR rr_q (cores are inputs 16 + c) and moves rr_q to
    // the lowest requester above the old pointer. From rr_q = 0 core 0 wins at c1 (cycle c1 after
    // the common first issue c0) and, the pointer now on its input, again at c1 + 1; then the
    // pointer walks 17..23 and wraps to 16: core c >= 1 is granted at c1 + 1 + c + 8(k-1), core 0's
    // k-th store (k >= 2) at c1 + 1 + 8(k-2). In the last round core 0 has stopped requesting, so
    // the wrap goes to core 1 and cores 1..7 gain one cycle: their N-th grant is at
    // g = c1 + 8(N-1) + c, core 0's at g = c1 + 8N - 15. Losers keep their request in the cut and,
    // with 4 stores in flight, stall. The ack is consumed at g+2, the fence issues at g+3 and the
    // closing csrr at g+4: t = g + 4 - (c1 - 2), so 8N - 2 + c for c >= 1 and 8N - 9 for core 0.
    const t = storeContention((c) => TCDM + 0x4000 + 256 * c, N);
    expect(t).toEqual(Array.from({ length: 8 }, (_, c) => (c === 0 ? 8 * N - 9 : 8 * N - 2 + c)));
  });
});

describe('DMA', () => {
  /**
   * The DMA core launches one transfer and spins. Returns, in cycles after the dmcpyi issued, the
   * first cycle `completed` (DMSTATI 0) shows it and the first cycle `busy` (DMSTATI 2) reads 0.
   */
  function dmaRun(
    src: number,
    dst: number,
    size: number,
  ): { completed: number; idle: number; bytes: number } {
    const p = new Prog();
    p.onlyCore(8, 5, 'spin');
    p.li(11, src).li(12, dst).li(13, size).emit(enc.dmsrc(11, 0), enc.dmdst(12, 0));
    const copy = p.pc;
    p.emit(enc.dmcpyi(14, 13, 0));
    p.spin();
    const c = load(p);
    const sim = c.simulator();
    let issued = -1;
    c.cores[8]!.onRetire = (pc) => {
      if (pc === copy) issued = sim.cycle;
    };
    const completedQ = c.dma.probes.find((q) => q.name.endsWith('i_transfer_id_gen.completed_q'))!;
    let completed = -1;
    let idle = -1;
    let seenBusy = false;
    for (let k = 0; k < 3000 && completed < 0; k++) {
      sim.step();
      // busy rises when the transfer enters the frontend's queue (t+2)
      if (issued >= 0 && c.dma.isBusy) seenBusy = true;
      if (seenBusy && idle < 0 && !c.dma.isBusy) idle = sim.cycle - issued;
      if (issued >= 0 && completedQ.read() === 2) completed = sim.cycle - issued;
    }
    return { completed, idle, bytes: c.dma.nBytes.value };
  }
  // Measured on the Verilated cluster (one transfer, idle system, 64-byte aligned, N beats of
  // 64 bytes, t = the dmcpyi's issue cycle): DRAM -> TCDM: AR t+3, R at the DMA's port from t+12,
  // W one cycle later, TCDM writes t+15..t+14+N, busy 0 from t+13+N, completed from t+18+N;
  // TCDM -> DRAM: TCDM reads t+5.., W t+9..t+8+N, DRAM writes from t+13, busy 0 from t+9+N,
  // completed from t+18+N (the write responses come back 6 / 10 cycles after the last W).
  for (const [name, src, dst, size, completed, idle] of [
    ['DRAM -> TCDM, 64 bytes', 0x8010_0000, TCDM + 0x8000, 64, 19, 14],
    ['DRAM -> TCDM, 256 bytes', 0x8010_0000, TCDM + 0x8000, 256, 22, 17],
    ['DRAM -> TCDM, 4 KiB', 0x8010_0000, TCDM + 0x8000, 4096, 82, 77],
    ['TCDM -> DRAM, 4 KiB', TCDM + 0x8000, 0x8010_0000, 4096, 82, 73],
  ] as const) {
    it(`1-D ${name}: completed from t+${completed}, busy 0 from t+${idle} (the RTL's cycles)`, () => {
      const r = dmaRun(src, dst, size);
      expect(r.bytes).toBe(size);
      expect(r.completed).toBe(completed);
      expect(r.idle).toBe(idle);
    });
  }
});
