/**
 * `ita_hwpe_wrap`: the HWPE with its 1024-bit memory port split into `MP` TCDM ports of
 * `memBytes` bytes (16 x 64 bits by default; the RTL testbench uses 32 x 32 bits). Every port
 * carries the same request and write enable, address `add + i * memBytes` and its slice of data
 * and byte enables; the wide grant and read-valid are the AND of the ports'. A port with no byte
 * enable set still requests (and is granted) on a write.
 *
 * The ports are arrays an interconnect attaches to: each cycle it reads `req`, `add`, `wen`,
 * `be`, `data` after `evaluateRequest()` and provides `gnt` before `evaluateGrant()`; `r_valid`
 * and `r_data` (the response to last cycle's grant) before `evaluateRequest()`.
 */
import { Module } from '../sim/kernel.ts';
import { ItaHwpeTop } from './ita_hwpe_top.ts';
import { ITA_TCDM_BYTES } from './params.ts';
import type { PeriphIntf } from './hwpe_ctrl_slave.ts';
import { InputError } from '../errors.ts';

/** The TCDM side of the wrapper: `MP` ports of `bytes` bytes. */
export class TcdmPorts {
  readonly req: Uint8Array;
  readonly add: Uint32Array;
  readonly wen: Uint8Array;
  /** Byte enables, port i at `[i * bytes, (i + 1) * bytes)` (one byte per strobe bit). */
  be: Uint8Array;
  /** Write data, port i at `[i * bytes, (i + 1) * bytes)`. */
  data: Uint8Array;
  readonly gnt: Uint8Array;
  readonly r_valid: Uint8Array;
  /** Read data, port i at `[i * bytes, (i + 1) * bytes)`. */
  readonly r_data: Uint8Array;
  constructor(
    readonly n: number,
    readonly bytes: number,
  ) {
    this.req = new Uint8Array(n);
    this.add = new Uint32Array(n);
    this.wen = new Uint8Array(n).fill(1);
    this.be = new Uint8Array(n * bytes);
    this.data = new Uint8Array(n * bytes);
    this.gnt = new Uint8Array(n);
    this.r_valid = new Uint8Array(n);
    this.r_data = new Uint8Array(n * bytes);
  }
}

export class ItaHwpeWrap extends Module {
  readonly i_ita: ItaHwpeTop;
  readonly tcdm: TcdmPorts;
  readonly mp: number;

  constructor(parent: Module | null, name = 'dut', memDataWidth = 64) {
    super(parent, name);
    if (![32, 64, 128, 256, 512, 1024].includes(memDataWidth)) {
      throw new InputError(
        `memory port width must be one of 32, 64, 128, 256, 512, 1024 bits, got ${memDataWidth}`,
      );
    }
    const bytes = memDataWidth / 8;
    this.mp = ITA_TCDM_BYTES / bytes;
    this.tcdm = new TcdmPorts(this.mp, bytes);
    this.i_ita = new ItaHwpeTop(this, 'i_ita');
    this.port('tcdm_req', 1, () => this.i_ita.tcdm.req);
    this.port('tcdm_gnt', 1, () => this.i_ita.tcdm.gnt);
    this.port('tcdm_wen', 1, () => this.i_ita.tcdm.wen);
    this.port('tcdm_add', 32, () => this.i_ita.tcdm.add);
    this.port('tcdm_r_valid', 1, () => this.i_ita.tcdm.r_valid);
    this.port('busy_o', 1, () => this.busy_o);
  }

  get periph(): PeriphIntf {
    return this.i_ita.periph;
  }
  get busy_o(): number {
    return this.i_ita.busy_o;
  }
  evt_o(core: number): number {
    return this.i_ita.evt_o(core);
  }

  evaluateRequest(): void {
    const w = this.i_ita.tcdm;
    const p = this.tcdm;
    let rv = 1;
    for (let i = 0; i < this.mp; i++) rv &= p.r_valid[i]!;
    w.r_valid = rv;
    w.r_data = p.r_data;
    this.i_ita.evaluateRequest();
    for (let i = 0; i < this.mp; i++) {
      p.req[i] = w.req;
      p.add[i] = (w.add + i * p.bytes) >>> 0;
      p.wen[i] = w.wen;
    }
    p.be = w.be;
    p.data = w.data;
  }

  evaluateGrant(): void {
    const p = this.tcdm;
    let g = 1;
    for (let i = 0; i < this.mp; i++) g &= p.gnt[i]!;
    this.i_ita.tcdm.gnt = g;
    this.i_ita.evaluateGrant();
  }

  override evaluate(): void {
    this.evaluateRequest();
    this.evaluateGrant();
  }
}
