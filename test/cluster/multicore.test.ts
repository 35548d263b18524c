/** Several cores at once: atomics on a shared TCDM word, LR/SC retry loops, the hardware barrier. */
import { describe, expect, it } from 'vitest';
import { enc, PERIPH, Prog, run, TCDM } from './asm.ts';

const COUNTER = TCDM + 0x6000;
const RES = TCDM + 0x1000;

/** Every compute core runs `body` (x11 = counter address), then core 0 waits for all and exits. */
function allCores(body: (p: Prog) => void): ReturnType<typeof run> {
  const p = new Prog();
  p.emit(enc.csrrs(5, 0, 0xf14)).li(6, 8);
  p.rel('dma', (o) => enc.beq(5, 6, o));
  p.li(11, COUNTER);
  body(p);
  p.emit(enc.fence()); // the last atomics have completed
  p.label('dma').emit(enc.csrrs(0, 0, 0x7c2)); // barrier: everyone done
  p.onlyCore(0, 5, 'spin').pass().spin();
  return run(p, {}, 500_000);
}

describe('multi-core', () => {
  it('8 cores x 50 amoadd.w on one word: no update lost', () => {
    const { cluster } = allCores((p) => {
      p.li(7, 50)
        .li(8, 1)
        .label('l')
        .emit(enc.amoadd_w(0, 11, 8), enc.addi(7, 7, -1));
      p.rel('l', (o) => enc.bne(7, 0, o));
    });
    expect(cluster.mem.read(COUNTER, 4)).toBe(400);
  });
  it('8 cores x 20 increments with lr.w/sc.w retry loops: no update lost', () => {
    const { cluster } = allCores((p) => {
      p.li(7, 20)
        .label('l')
        .emit(enc.lr_w(9, 11), enc.addi(9, 9, 1), enc.sc_w(10, 11, 9));
      p.rel('l', (o) => enc.bne(10, 0, o)); // retry on failure
      p.emit(enc.addi(7, 7, -1));
      p.rel('l', (o) => enc.bne(7, 0, o));
    });
    expect(cluster.mem.read(COUNTER, 4)).toBe(160);
  });
  it('barrier: cores arriving together resume 2 cycles after the last arrival', () => {
    // snitch_barrier: the arrival flops are set at the edge after the CSR access (cycle c), so
    // `barrier_o = &arrival_q` rises in c+1 and clears `csr_stall` at that edge: the cores issue
    // again in c+2. csrr mcycle (c-1), barrier (c), csrr mcycle (c+2): difference 3.
    const p = new Prog();
    p.emit(enc.csrrs(20, 0, 0xb00), enc.csrrs(0, 0, 0x7c2), enc.csrrs(21, 0, 0xb00), enc.sub(21, 21, 20));
    p.emit(enc.csrrs(5, 0, 0xf14), enc.slli(5, 5, 2))
      .li(11, RES)
      .emit(enc.add(11, 11, 5), enc.sw(21, 11, 0));
    p.emit(enc.csrrs(0, 0, 0x7c2));
    p.onlyCore(0, 5, 'spin').pass().spin();
    const { cluster } = run(p);
    expect(Array.from({ length: 9 }, (_, i) => cluster.mem.read(RES + 4 * i, 4))).toEqual(Array(9).fill(3));
  });
  it('barrier: early cores wait for the last one', () => {
    // core 3 spins 100 iterations (2 instructions each) before the barrier; everyone else waits
    const p = new Prog();
    p.emit(enc.csrrs(20, 0, 0xb00), enc.csrrs(5, 0, 0xf14)).li(6, 3);
    p.rel('go', (o) => enc.bne(5, 6, o));
    p.li(7, 100)
      .label('l')
      .emit(enc.addi(7, 7, -1));
    p.rel('l', (o) => enc.bne(7, 0, o));
    p.label('go').emit(enc.csrrs(0, 0, 0x7c2), enc.csrrs(21, 0, 0xb00), enc.sub(21, 21, 20));
    p.emit(enc.slli(5, 5, 2))
      .li(11, RES)
      .emit(enc.add(11, 11, 5), enc.sw(21, 11, 0), enc.csrrs(0, 0, 0x7c2));
    p.onlyCore(0, 5, 'spin').pass().spin();
    // a perfect instruction memory: with the instruction cache the cores would leave together but
    // reach the next csrr after L0 misses served one core per cycle
    const { cluster } = run(p, { idealFetch: true });
    const t = Array.from({ length: 9 }, (_, i) => cluster.mem.read(RES + 4 * i, 4));
    expect(new Set(t).size).toBe(1); // all leave in the same cycle
    expect(t[0]!).toBeGreaterThan(200);
    expect(cluster.cores[0]!.nStall[5]!.value).toBeGreaterThan(190); // counted as barrier stalls
  });
  it('an AMO keeps its bank busy for two more cycles (DoAMO, WriteBackAMO)', () => {
    // core 0: amoadd then immediately a store to the same bank (256 bytes on); the store is
    // granted 3 cycles after the AMO (grant g, busy g+1, g+2) instead of 1, so the fence waiting
    // for its ack issues 2 cycles later than with a plain store in place of the AMO.
    const prog = (amo: boolean) => {
      const p = new Prog();
      p.onlyCore(0, 5, 'spin').li(11, COUNTER).li(8, 1).li(12, RES);
      p.emit(enc.csrrs(20, 0, 0xb00));
      p.emit(amo ? enc.amoadd_w(0, 11, 8) : enc.sw(8, 11, 0), enc.sw(8, 11, 256), enc.fence());
      p.emit(enc.csrrs(21, 0, 0xb00), enc.sub(21, 21, 20), enc.sw(21, 12, 0))
        .pass()
        .spin();
      const { cluster } = run(p);
      return cluster.mem.read(RES, 4);
    };
    expect(prog(true) - prog(false)).toBe(2);
  });
  it('performance counters: cycles and TCDM accesses', () => {
    // PERF_COUNTER_ENABLE[0] = cycle, [1] = tcdm_accessed; 20 TCDM loads between enable and read.
    const p = new Prog();
    p.onlyCore(0, 5, 'spin')
      .li(11, PERIPH)
      .li(12, TCDM + 0x3000)
      .li(13, RES);
    p.li(6, 1)
      .emit(enc.sw(6, 11, 0))
      .li(6, 2)
      .emit(enc.sw(6, 11, 8));
    for (let i = 0; i < 20; i++) p.emit(enc.lw(7, 12, 0));
    p.emit(enc.lw(8, 11, 0x100), enc.lw(9, 11, 0x108), enc.sw(8, 13, 0), enc.sw(9, 13, 4));
    p.pass().spin();
    const { cluster } = run(p);
    const cycles = cluster.mem.read(RES, 4);
    const accesses = cluster.mem.read(RES + 4, 4);
    expect(cycles).toBeGreaterThanOrEqual(80); // 20 loads at 4 cycles each (one outstanding load)
    expect(accesses).toBe(20);
  });
});
