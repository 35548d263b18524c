/**
 * Stream orders of the ITA testbench files. Every order is a list of positions into a rows x cols
 * matrix view (row-major position r * cols + c), built once per file shape:
 *
 * - `plainOrder`: row-major, repeated `rep` times.
 * - `tileOrder`: 64 x 64 tiles in row-major tile order, each tile row-major; the whole sequence
 *   repeated `rep` times (a weight operand re-read for every row block of the output).
 * - `rowRepeatOrder`: for every 64-row block and each of `rep` output column tiles, the 64 x 64
 *   tiles of the block along the inner dimension, each tile sent 4 times (once per group of 16
 *   output columns) — the input operand of a matmul.
 * - `blockOrder`: 64 x 16 blocks in row-major block order, each row-major — outputs and biases.
 */

/** Tile size (M) and output group width (N) of ITA. */
export const TILE = 64;
export const GROUP = 16;
const SPLIT = TILE / GROUP;

export function plainOrder(rows: number, cols: number, rep = 1): Int32Array {
  const n = rows * cols;
  const out = new Int32Array(n * rep);
  for (let k = 0; k < rep; k++) for (let i = 0; i < n; i++) out[k * n + i] = i;
  return out;
}

export function tileOrder(rows: number, cols: number, rep = 1): Int32Array {
  const n = rows * cols;
  const out = new Int32Array(n * rep);
  let p = 0;
  for (let k = 0; k < rep; k++)
    for (let rb = 0; rb < rows; rb += TILE)
      for (let cb = 0; cb < cols; cb += TILE)
        for (let r = 0; r < TILE; r++) for (let c = 0; c < TILE; c++) out[p++] = (rb + r) * cols + cb + c;
  return out;
}

export function rowRepeatOrder(rows: number, cols: number, rep: number): Int32Array {
  const out = new Int32Array(rows * cols * rep * SPLIT);
  let p = 0;
  for (let rb = 0; rb < rows; rb += TILE)
    for (let y = 0; y < rep; y++)
      for (let cb = 0; cb < cols; cb += TILE)
        for (let g = 0; g < SPLIT; g++)
          for (let r = 0; r < TILE; r++) for (let c = 0; c < TILE; c++) out[p++] = (rb + r) * cols + cb + c;
  return out;
}

export function blockOrder(rows: number, cols: number): Int32Array {
  const out = new Int32Array(rows * cols);
  let p = 0;
  for (let rb = 0; rb < rows; rb += TILE)
    for (let cb = 0; cb < cols; cb += GROUP)
      for (let r = 0; r < TILE; r++) for (let c = 0; c < GROUP; c++) out[p++] = (rb + r) * cols + cb + c;
  return out;
}
