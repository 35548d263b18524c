/**
 * Per-module cases of the HWPE wrapper, hand-checked against what the RTL says: the stream FIFO's
 * timing, the address generator's pattern, the round-robin mux, the slave's job timing and
 * contexts, the bias buffer's two read orders.
 */
import { describe, expect, it } from 'vitest';
import { Module, Simulator } from '../../rtl-model/sim/kernel.ts';
import { HwpeStreamFifo } from '../../rtl-model/hwpe/hwpe_stream_fifo.ts';
import { HwpeStreamAddressgenV3 } from '../../rtl-model/hwpe/addressgen_v3.ts';
import { HciCoreMuxOoo } from '../../rtl-model/hwpe/hci_core_mux_ooo.ts';
import { HciCoreIntf } from '../../rtl-model/hwpe/intf.ts';
import { HwpeCtrlSlave } from '../../rtl-model/hwpe/hwpe_ctrl_slave.ts';
import { ItaHwpeInputBiasBuffer } from '../../rtl-model/hwpe/ita_hwpe_input_bias_buffer.ts';
import { ITA_REG, ITA_REG_OFFSET } from '../../rtl-model/hwpe/params.ts';

class Root extends Module {
  constructor() {
    super(null, 'tb');
  }
  override evaluate(): void {}
}

describe('hwpe_stream_fifo', () => {
  it('depth 2: no fall-through, full after two pushes, keeps order', () => {
    const root = new Root();
    const f = new HwpeStreamFifo(root, 'f', 2, 1, false);
    const sim = new Simulator(root);
    sim.reset();
    const seen: string[] = [];
    const data = new Uint8Array(1);
    f.push_data = data;
    for (let c = 0; c < 6; c++) {
      data[0] = 10 + c;
      f.push_valid = c < 3 ? 1 : 0;
      f.pop_ready = c >= 3 ? 1 : 0;
      seen.push(`${f.push_ready}${f.pop_valid}:${f.pop_valid ? f.pop_data[0] : '-'}`);
      sim.step();
    }
    // cycle 2: full, the third push is refused; cycles 3, 4 pop 10 and 11
    expect(seen).toEqual(['10:-', '11:10', '01:10', '01:10', '11:11', '10:-']);
  });
});

describe('hwpe_stream_addressgen_v3', () => {
  it('2-D output pattern: base + 128 j + 16 i, 32 rows per column group, then done', () => {
    const root = new Root();
    const ag = new HwpeStreamAddressgenV3(root, 'ag');
    ag.ctrl_i = {
      base_addr: 0x1000,
      tot_len: 128,
      d0_len: 32,
      d0_stride: 128,
      d1_len: 4,
      d1_stride: 16,
      d2_stride: 0,
      dim_enable_1h: 1,
    };
    const sim = new Simulator(root);
    sim.reset();
    const addrs: number[] = [];
    let done = -1;
    for (let c = 0; c < 140 && done < 0; c++) {
      ag.presample_i = c === 0 ? 1 : 0;
      ag.enable_i = 1;
      ag.ready_i = 1;
      ag.evaluate();
      if (ag.valid_o) addrs.push(ag.addr_o);
      if (ag.done_o) done = c;
      sim.step();
    }
    const exp: number[] = [];
    for (let i = 0; i < 4; i++) for (let j = 0; j < 32; j++) exp.push(0x1000 + 128 * j + 16 * i);
    expect(addrs).toEqual(exp);
    expect(done).toBe(128);
  });
});

describe('hci_core_mux_ooo', () => {
  function mux(): { sim: Simulator; m: HciCoreMuxOoo; ins: HciCoreIntf[] } {
    const root = new Root();
    const ins = [0, 1, 2, 3].map((i) => new HciCoreIntf(`in${i}`, 4));
    const m = new HciCoreMuxOoo(root, 'mux', ins, 4);
    const sim = new Simulator(root);
    sim.reset();
    return { sim, m, ins };
  }
  it('round robin over four requesters, one grant per cycle', () => {
    const { sim, m, ins } = mux();
    const winners: number[] = [];
    for (let c = 0; c < 8; c++) {
      for (const i of ins) i.req = 1;
      m.evaluateRequest();
      m.out.gnt = m.out.req;
      m.evaluateGrant();
      winners.push(ins.findIndex((i) => i.gnt === 1));
      sim.step();
    }
    expect(winners).toEqual([0, 1, 2, 3, 0, 1, 2, 3]);
  });
  it('keeps the winner while the port is stalled, then moves on', () => {
    const { sim, m, ins } = mux();
    const winners: number[] = [];
    for (let c = 0; c < 5; c++) {
      ins[0]!.req = c === 0 ? 1 : 0;
      ins[2]!.req = 1;
      ins[3]!.req = 1;
      m.evaluateRequest();
      m.out.gnt = c >= 1 && c <= 2 ? 0 : m.out.req; // stalled in cycles 1 and 2
      m.evaluateGrant();
      winners.push(m.out.id);
      sim.step();
    }
    // 0 granted (rr -> 1); cycle 1 re-arbitrates from 1: 2, held through the stall (no grant,
    // requests pending); granted in cycle 3 (rr -> 2); cycle 4 re-arbitrates from 2: 2 again
    expect(winners).toEqual([0, 2, 2, 2, 2]);
  });
  it('steers a response by its id', () => {
    const { m, ins } = mux();
    m.out.r_valid = 1;
    m.out.r_id = 2;
    m.evaluateResponse();
    expect(ins.map((i) => i.r_valid)).toEqual([0, 0, 1, 0]);
  });
});

describe('hwpe_ctrl_slave', () => {
  function slave(): {
    sim: Simulator;
    s: HwpeCtrlSlave;
    write: (add: number, data: number) => void;
    idle: () => void;
  } {
    const root = new Root();
    const s = new HwpeCtrlSlave(root, 'slave');
    const sim = new Simulator(root);
    sim.reset();
    const cycle = (): void => {
      s.evaluate();
      s.flags.true_done = s.done_i & s.is_working;
      sim.step();
    };
    const write = (add: number, data: number): void => {
      Object.assign(s.cfg, { req: 1, add, wen: 0, be: 0xf, data });
      cycle();
      s.cfg.req = 0;
    };
    const idle = (): void => cycle();
    for (let i = 0; i < 4; i++) idle(); // start-up clear of the register file
    return { sim, s, write, idle };
  }
  it('trigger: busy two edges later, start for one cycle three edges later; done raises the event', () => {
    const { s, write, idle } = slave();
    write(ITA_REG_OFFSET + 4 * ITA_REG.INPUT_PTR, 0x1234);
    const trace: string[] = [];
    write(0x00, 0); // trigger seen at this edge
    for (let c = 0; c < 4; c++) {
      trace.push(`${s.is_working}${s.start}`);
      idle();
    }
    expect(trace).toEqual(['00', '10', '11', '10']);
    expect(s.param(ITA_REG.INPUT_PTR)).toBe(0x1234);
    s.done_i = 1;
    idle();
    s.done_i = 0;
    expect([s.is_working, s.evt(0)]).toEqual([0, 1]);
    idle();
    expect(s.evt(0)).toBe(0);
  });
  it('contexts: a job sees the registers committed with it, also when programmed while another runs', () => {
    const { s, write, idle } = slave();
    const program = (v: number): void => {
      write(ITA_REG_OFFSET + 4 * ITA_REG.OUTPUT_PTR, v);
      write(0x00, 0);
    };
    const seen: number[] = [];
    const runJob = (during?: () => void): void => {
      for (let k = 0; k < 10 && !s.start; k++) idle();
      expect(s.start).toBe(1);
      seen.push(s.param(ITA_REG.OUTPUT_PTR));
      during?.();
      s.done_i = 1;
      idle();
      s.done_i = 0;
    };
    program(0x100);
    program(0x200);
    runJob();
    runJob(() => program(0x300));
    runJob();
    expect(seen).toEqual([0x100, 0x200, 0x300]);
  });
});

describe('ita_hwpe_input_bias_buffer', () => {
  function run(dir: number): number[][] {
    const root = new Root();
    const b = new ItaHwpeInputBiasBuffer(root, 'bb', 48);
    const sim = new Simulator(root);
    sim.reset();
    b.bias_dir_i = dir;
    // bias k = k + 1 (24 bits, little-endian), two words of 32 biases each
    const word = (w: number): Uint8Array => {
      const d = new Uint8Array(128);
      for (let k = 0; k < 32; k++) d[3 * k] = 32 * w + k + 1;
      return d;
    };
    const out: number[][] = [];
    for (let c = 0; c < 300 && out.length < 256; c++) {
      b.evaluateOutput();
      b.data_i_valid = c < 2 ? 1 : 0;
      b.data_i_data = word(c);
      b.data_o_ready = 1;
      if (b.data_o_valid) out.push(Array.from({ length: 16 }, (_, i) => b.data_o_data[3 * i]!));
      b.evaluateHandshake();
      sim.step();
    }
    return out;
  }
  it('normal direction: 64 reads of biases 1..16, then 17..32, ...', () => {
    const o = run(0);
    expect(o.length).toBe(256);
    expect(o[0]).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    expect(o[63]).toEqual(o[0]);
    expect(o[64]).toEqual(Array.from({ length: 16 }, (_, i) => i + 17));
    expect(o[255]![15]).toBe(64);
  });
  it('bias direction: each read broadcasts one bias, in order, four times over', () => {
    const o = run(1);
    expect(o.slice(0, 64).map((r) => r[0])).toEqual(Array.from({ length: 64 }, (_, i) => i + 1));
    expect(o[5]).toEqual(new Array(16).fill(6));
    expect(o[64]![0]).toBe(1);
  });
});
