/**
 * Stream orders of the ITA testbench files. Every order walks a rows x cols matrix view as a list
 * of rectangles, each row-major (`Walk`); expanded, it is a list of positions into the view
 * (row-major position r * cols + c), built once per file shape:
 *
 * - `plain`: the whole view row-major, repeated `rep` times.
 * - `tile`: 64 x 64 tiles in row-major tile order, each tile row-major; the whole sequence
 *   repeated `rep` times (a weight operand re-read for every row block of the output).
 * - `rowRepeat`: for every 64-row block and each of `rep` output column tiles, the 64 x 64
 *   tiles of the block along the inner dimension, each tile sent 4 times (once per group of 16
 *   output columns) — the input operand of a matmul.
 * - `block`: 64 x 16 blocks in row-major block order, each row-major — outputs and biases.
 *
 * Writers walk the rectangles (a rectangle seen before is the same text again); readers and
 * `compare` use the expanded positions. Both come from the same rectangle lists.
 */

/** Tile size (M) and output group width (N) of ITA. */
export const TILE = 64;
export const GROUP = 16;
const SPLIT = TILE / GROUP;

/**
 * A stream order as rectangles of the view, each walked row-major: four numbers per rectangle,
 * its first row, first column, height and width.
 */
export type Walk = Int32Array;

/** Builds a walk from a callback that lists its rectangles in order. */
function walk(
  count: number,
  list: (add: (r0: number, c0: number, h: number, w: number) => void) => void,
): Walk {
  const out = new Int32Array(4 * count);
  let p = 0;
  list((r0, c0, h, w) => {
    out[p++] = r0;
    out[p++] = c0;
    out[p++] = h;
    out[p++] = w;
  });
  return out;
}

export function plainWalk(rows: number, cols: number, rep = 1): Walk {
  return walk(rep, (add) => {
    for (let k = 0; k < rep; k++) add(0, 0, rows, cols);
  });
}

export function tileWalk(rows: number, cols: number, rep = 1): Walk {
  return walk((rep * rows * cols) / (TILE * TILE), (add) => {
    for (let k = 0; k < rep; k++)
      for (let rb = 0; rb < rows; rb += TILE) for (let cb = 0; cb < cols; cb += TILE) add(rb, cb, TILE, TILE);
  });
}

export function rowRepeatWalk(rows: number, cols: number, rep: number): Walk {
  return walk((rep * SPLIT * rows * cols) / (TILE * TILE), (add) => {
    for (let rb = 0; rb < rows; rb += TILE)
      for (let y = 0; y < rep; y++)
        for (let cb = 0; cb < cols; cb += TILE) for (let g = 0; g < SPLIT; g++) add(rb, cb, TILE, TILE);
  });
}

export function blockWalk(rows: number, cols: number): Walk {
  return walk((rows * cols) / (TILE * GROUP), (add) => {
    for (let rb = 0; rb < rows; rb += TILE) for (let cb = 0; cb < cols; cb += GROUP) add(rb, cb, TILE, GROUP);
  });
}

/** Number of positions of a walk. */
export function walkLength(w: Walk): number {
  let n = 0;
  for (let i = 0; i < w.length; i += 4) n += w[i + 2]! * w[i + 3]!;
  return n;
}

/** The positions (r * cols + c) of a walk over a view `cols` wide, in stream order. */
export function walkPositions(w: Walk, cols: number): Int32Array {
  const out = new Int32Array(walkLength(w));
  let p = 0;
  for (let i = 0; i < w.length; i += 4) {
    const [r0, c0, h, wd] = [w[i]!, w[i + 1]!, w[i + 2]!, w[i + 3]!];
    for (let r = 0; r < h; r++) {
      const o = (r0 + r) * cols + c0;
      for (let c = 0; c < wd; c++) out[p++] = o + c;
    }
  }
  return out;
}

export function plainOrder(rows: number, cols: number, rep = 1): Int32Array {
  return walkPositions(plainWalk(rows, cols, rep), cols);
}

export function tileOrder(rows: number, cols: number, rep = 1): Int32Array {
  return walkPositions(tileWalk(rows, cols, rep), cols);
}

export function rowRepeatOrder(rows: number, cols: number, rep: number): Int32Array {
  return walkPositions(rowRepeatWalk(rows, cols, rep), cols);
}

export function blockOrder(rows: number, cols: number): Int32Array {
  return walkPositions(blockWalk(rows, cols), cols);
}
