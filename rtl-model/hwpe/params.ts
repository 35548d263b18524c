/**
 * Parameters and register map of the ITA HWPE (`ita_hwpe_package.sv`) and the hwpe-ctrl register
 * file (`hwpe_ctrl_package.sv`).
 *
 * Peripheral address map (byte addresses, 32-bit registers):
 * - 0x00 TRIGGER (write 0: commit and trigger), 0x04 ACQUIRE (read: job id, or -1 all contexts
 *   busy, -2 another core is programming), 0x08 FINISHED, 0x0c STATUS (one byte per context),
 *   0x10 RUNNING_JOB, 0x14 SOFT_CLEAR (write; data 0 also clears the register file),
 *   0x18 reserved / external, 0x1c SW_EVT.
 * - 0x20 + 4*k: job register k (17 of them, below), written into the context being programmed,
 *   read from it (or from context c-1 when address bits [10:8] = c > 0).
 */
export const N_CORES = 9;
export const N_CONTEXT = 4;
export const ID_WIDTH = 2;
export const ITA_IO_REGS = 17;
/** hwpe-ctrl: registers per context address space, mandatory registers, events per core. */
export const REGFILE_N_REGISTERS = 64;
export const REGFILE_N_MANDATORY_REGS = 8;
export const REGFILE_N_EVT = 2;

export const REGFILE_MANDATORY_TRIGGER = 0;
export const REGFILE_MANDATORY_ACQUIRE = 1;
export const REGFILE_MANDATORY_FINISHED = 2;
export const REGFILE_MANDATORY_STATUS = 3;
export const REGFILE_MANDATORY_RUNNING = 4;
export const REGFILE_MANDATORY_SOFTCLEAR = 5;
export const REGFILE_MANDATORY_RESERVED = 6;
export const REGFILE_MANDATORY_SWEVT = 7;

/** Job registers (index k at byte address 0x20 + 4k). */
export const ITA_REG = {
  INPUT_PTR: 0,
  WEIGHT_PTR0: 1,
  WEIGHT_PTR1: 2,
  BIAS_PTR: 3,
  OUTPUT_PTR: 4,
  SEQ_LENGTH: 5,
  /** tile_s [3:0], tile_e [7:4], tile_p [11:8], tile_f [15:12] (0 means 1). */
  TILES: 6,
  EPS_MULT0: 7,
  EPS_MULT1: 8,
  RIGHT_SHIFT0: 9,
  RIGHT_SHIFT1: 10,
  ADD0: 11,
  ADD1: 12,
  /** layer [1:0], activation [3:2]. */
  CTRL_ENGINE: 13,
  /** [0] weight preload, [1] weight next-load, [2] bias disable, [3] bias direction, [4] output disable. */
  CTRL_STREAM: 14,
  /** gelu_b [15:0], gelu_c [31:16]. */
  GELU_B_C: 15,
  /** mult [7:0], shift [15:8], add [23:16]. */
  ACTIVATION_REQUANT: 16,
} as const;

/** Byte offset of the job registers. */
export const ITA_REG_OFFSET = 0x20;

/** Wide data port and stream widths in bytes (M = 64, N = 16, N_WRITE_EN = 8, WO = 26). */
export const ITA_TCDM_BYTES = 128;
export const ITA_INPUT_BYTES = 64;
export const ITA_WEIGHT_BYTES = 128;
export const ITA_BIAS_BYTES = 48;
export const ITA_OUTPUT_BYTES = 16;
/** The core's `N_WRITE_EN` when built as an HWPE (`TARGET_ITA_HWPE`). */
export const HWPE_N_WRITE_EN = 8;
