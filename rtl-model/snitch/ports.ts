/**
 * Payloads of the core's external interfaces: the data port (`reqrsp` request/response, as seen
 * after `snitch_lsu`) and the accelerator offload port (`acc_req_t` / `acc_resp_t`).
 */
import { Amo } from './isa.ts';

/** One data-port request. `data` is the store value (low `size` bytes used). */
export class DataReq {
  addr = 0;
  write = false;
  size = 4;
  data = 0;
  amo: Amo = Amo.None;
  /** Hart index of the requester (the AMO shim's reservation key). */
  core = 0;
}

/** One data-port response: the bytes read at `addr` (unsigned, `size` bytes), or a write ack. */
export class DataRsp {
  data = 0;
  write = false;
}

/** Offloaded instruction (mul/div to the hive, Xdma to the DMA frontend). */
export class AccReq {
  /** Instruction mnemonic from the ISA table. */
  name = '';
  /** For the shared mul/div unit (an M-extension instruction), and there for its divider. */
  mulDiv = false;
  divider = false;
  word = 0;
  a = 0;
  b = 0;
  rd = 0;
  core = 0;
}

/** Result of an offloaded instruction, written to `rd` by the core's third write-back source. */
export class AccRsp {
  data = 0;
  rd = 0;
}
