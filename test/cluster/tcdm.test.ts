/**
 * The TCDM interconnect on its own, driven port by port: bank mapping, round-robin arbitration,
 * the DMA's superbank priority and the 64-bit accelerator ports (the attachment point of the ITA
 * HWPE: 16 ports).
 */
import { describe, expect, it } from 'vitest';
import { Cluster } from '../../rtl-model/cluster/cluster.ts';
import { ClusterMemory, TCDM_BASE } from '../../rtl-model/cluster/memory.ts';
import { Tcdm, type TcdmPort } from '../../rtl-model/cluster/tcdm.ts';
import { Simulator } from '../../rtl-model/sim/kernel.ts';

function setup(cores = 2, accel = 2) {
  const mem = new ClusterMemory(1024, cores);
  const tcdm = new Tcdm(null, 'tcdm', mem, cores, accel);
  const sim = new Simulator(tcdm);
  return { mem, tcdm, sim };
}
function req(p: TcdmPort, addr: number, write = false, dataLo = 0, size = 4, dataHi = 0): void {
  p.qValid = true;
  p.addr = addr;
  p.write = write;
  p.size = size;
  p.dataLo = dataLo;
  p.dataHi = dataHi;
}

describe('TCDM interconnect', () => {
  it('bank = (addr >> 3) mod 32', () => {
    expect(Tcdm.bankOf(TCDM_BASE)).toBe(0);
    expect(Tcdm.bankOf(TCDM_BASE + 4)).toBe(0);
    expect(Tcdm.bankOf(TCDM_BASE + 8)).toBe(1);
    expect(Tcdm.bankOf(TCDM_BASE + 31 * 8)).toBe(31);
    expect(Tcdm.bankOf(TCDM_BASE + 32 * 8)).toBe(0);
  });
  it('two ports on one bank: the XOR rule and the pointer update; on two banks both at once', () => {
    // Inputs: accelerator ports 0..1, then cores a = 2, b = 3. rr_q = 0: a wins (2 XOR 0 < 3 XOR 0)
    // and rr_q moves to the lowest requester above 0 (a); a wins again (key 0), rr_q -> 3 (b);
    // b wins, rr_q wraps to the lowest requester (a); a wins.
    const { tcdm, sim } = setup();
    const [a, b] = tcdm.ports as [TcdmPort, TcdmPort];
    const grants: string[] = [];
    for (let c = 0; c < 4; c++) {
      req(a, TCDM_BASE + 0x100);
      req(b, TCDM_BASE + 0x200); // same bank 0
      sim.step();
      grants.push(`${a.qReady ? 'a' : ''}${b.qReady ? 'b' : ''}`);
    }
    expect(grants).toEqual(['a', 'a', 'b', 'a']);
    req(a, TCDM_BASE + 0x100);
    req(b, TCDM_BASE + 0x208); // bank 1
    sim.step();
    expect([a.qReady, b.qReady]).toEqual([true, true]);
  });
  it('the DMA takes a whole superbank (8 banks); narrow requests there stall', () => {
    const { tcdm, sim } = setup();
    const [a, b] = tcdm.ports as [TcdmPort, TcdmPort];
    req(a, TCDM_BASE + 7 * 8); // bank 7: superbank 0
    req(b, TCDM_BASE + 8 * 8); // bank 8: superbank 1
    tcdm.dmaSuperbanks = 0b0001;
    sim.step();
    expect([a.qReady, b.qReady]).toEqual([false, true]);
    tcdm.dmaSuperbanks = 0;
    sim.step();
    expect(a.qReady).toBe(true);
  });
  it('accelerator ports: 64-bit write, read data one cycle after the grant', () => {
    const { tcdm, sim, mem } = setup(1, 16);
    expect(tcdm.accelPorts.length).toBe(16);
    const p = tcdm.accelPorts[15]!;
    req(p, TCDM_BASE + 0x40, true, 0x11223344, 8, 0x55667788);
    sim.step();
    expect(p.qReady).toBe(true);
    expect(mem.read(TCDM_BASE + 0x40, 4)).toBe(0x11223344);
    expect(mem.read(TCDM_BASE + 0x44, 4)).toBe(0x55667788);
    req(p, TCDM_BASE + 0x40, false, 0, 8);
    sim.step();
    p.qValid = false;
    sim.settle();
    expect([p.pValid, p.pDataLo >>> 0, p.pDataHi >>> 0]).toEqual([true, 0x11223344, 0x55667788]);
  });
  it('the cluster exposes 16 accelerator ports that share the banks with the cores', () => {
    const c = new Cluster();
    expect(c.accelPorts.length).toBe(16);
    expect(c.tcdm.ports.length).toBe(9 + 16);
  });
});
