/**
 * `ita_hwpe_input_bias_buffer`: takes the 64 biases of a tile (24 bits each) as two memory words
 * (the first 96 bytes of each, state Write), then hands out 256 bias words (state Read) and
 * returns to Write. The store is `ita_register_file_1w_1r_double_width_write`: two rows of
 * 768 bits written whole, read as four 384-bit halves through a registered read address, so the
 * read data of an address come one cycle later (`read_enable_q` is the output valid).
 * Normal direction: half `read_cnt[7:6]` (16 biases, one per output column) for 64 reads.
 * Bias direction set (V is computed transposed): half `read_cnt[5:4]`, and every lane gets the
 * same bias, element `read_cnt[3:0]` of that half.
 */
import { Module } from '../sim/kernel.ts';
import type { Reg } from '../sim/kernel.ts';
import { SlotWrite } from './intf.ts';

const READ = 0;
const WRITE = 1;

export class ItaHwpeInputBiasBuffer extends Module {
  bias_dir_i = 0;
  // ---- data_i ----
  data_i_valid = 0;
  data_i_data: Uint8Array;
  data_i_ready = 0;
  // ---- data_o ----
  data_o_ready = 0;
  data_o_valid = 0;
  readonly data_o_data: Uint8Array;

  readonly state_q: Reg;
  readonly read_cnt_q: Reg;
  readonly write_cnt_q: Reg;
  readonly read_enable_q: Reg;
  /** Registered read address of the register file (`ReadAddr[1]` row, `DEST` = `ReadAddr[0]` half). */
  readonly raddr_row_q: Reg;
  readonly dest_q: Reg;
  private readonly rows: Uint8Array[];
  private readonly rowWrite: SlotWrite;
  private readonly rowStage: Uint8Array;
  private readAddr = 0;
  private readEnable = 0;

  constructor(
    parent: Module,
    name: string,
    readonly outBytes: number,
  ) {
    super(parent, name);
    this.state_q = this.reg('state_q', 1, WRITE);
    this.read_cnt_q = this.reg('read_cnt_q', 8);
    this.write_cnt_q = this.reg('write_cnt_q', 4);
    this.read_enable_q = this.reg('read_enable_q', 1);
    this.raddr_row_q = this.reg('raddr_row_q', 1);
    this.dest_q = this.reg('dest_q', 1);
    this.rows = [new Uint8Array(2 * outBytes), new Uint8Array(2 * outBytes)];
    this.rowWrite = new SlotWrite(this.rows);
    this.state.push(this.rowWrite);
    this.rowStage = new Uint8Array(2 * outBytes);
    this.data_i_data = new Uint8Array(2 * outBytes);
    this.data_o_data = new Uint8Array(outBytes);
    this.port('data_o_valid', 1, () => this.data_o_valid);
    this.port('data_o_ready', 1, () => this.data_o_ready);
  }

  /** State-only outputs: `data_i.ready`, `data_o.valid` and data. */
  evaluateOutput(): void {
    const rd = this.state_q.cur === READ;
    this.data_i_ready = rd ? 0 : 1;
    this.data_o_valid = rd ? this.read_enable_q.cur : 0;
    const o = this.data_o_data;
    if (!this.data_o_valid) {
      o.fill(0);
      return;
    }
    const row = this.rows[this.raddr_row_q.cur]!;
    const off = this.dest_q.cur * this.outBytes;
    if (!this.bias_dir_i) {
      for (let i = 0; i < o.length; i++) o[i] = row[off + i]!;
      return;
    }
    const e = (this.read_cnt_q.cur & 15) * 3;
    const b0 = row[off + e]!;
    const b1 = row[off + e + 1]!;
    const b2 = row[off + e + 2]!;
    for (let i = 0; i < this.outBytes; i += 3) {
      o[i] = b0;
      o[i + 1] = b1;
      o[i + 2] = b2;
    }
  }

  /** Handshakes (needs `data_i_valid` and `data_o_ready`). */
  evaluateHandshake(): void {
    this.readEnable = 0;
    this.readAddr = 0;
    if (this.state_q.cur === READ) {
      this.readEnable = 1;
      let cntD = this.read_cnt_q.cur;
      if (this.data_o_valid && this.data_o_ready) cntD = (cntD + 1) & 0xff;
      this.readAddr = this.bias_dir_i ? (cntD >> 4) & 3 : (cntD >> 6) & 3;
    }
  }

  override evaluate(): void {
    this.evaluateOutput();
    this.evaluateHandshake();
  }

  protected override seq(): void {
    if (this.state_q.cur === WRITE) {
      if (this.data_i_valid) {
        const w = this.write_cnt_q.cur;
        this.rowStage.set(this.data_i_data.subarray(0, this.rowStage.length));
        this.rowWrite.write(w & 1, this.rowStage);
        if (w === 1) {
          this.state_q.nxt = READ;
          this.write_cnt_q.nxt = 0;
        } else this.write_cnt_q.nxt = (w + 1) & 15;
      }
    } else if (this.data_o_valid && this.data_o_ready) {
      const r = this.read_cnt_q.cur;
      if (r === 255) {
        this.state_q.nxt = WRITE;
        this.read_cnt_q.nxt = 0;
      } else this.read_cnt_q.nxt = r + 1;
    }
    this.read_enable_q.nxt = this.readEnable;
    if (this.readEnable) this.raddr_row_q.nxt = this.readAddr >> 1;
    this.dest_q.nxt = this.readAddr & 1;
  }
}
