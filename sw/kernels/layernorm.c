/* Integer LayerNorm over the last dimension (the integer formulation Deeploy deploys for ITA's
   networks), rows split across the 8 compute cores:
     mean = trunc(sum(x + off) / n)
     var  = trunc(sum((x + off - mean)^2) / n) + 1,   std = floor(sqrt(var))
     y    = int8(((x + off - mean) * w[j] / std + b[j]) >> log2D)      (C division, wrap to 8 bits)
   Weights must lie in the int16 range so that the product fits 32 bits. */
#include "intmath.h"
#include "snrt.h"

#define MAX_ROWS 64
#define MAX_COLS 256

struct layernorm_args {
  uint32_t rows, cols;
  int32_t offset, log2d;
  uint32_t compute_cycles;
};

volatile struct layernorm_args layernorm_args = {64, 64, 0, 0, 0};
int8_t layernorm_in[MAX_ROWS * MAX_COLS] __attribute__((aligned(64)));
int32_t layernorm_w[MAX_COLS] __attribute__((aligned(64)));
int32_t layernorm_b[MAX_COLS] __attribute__((aligned(64)));
int8_t layernorm_out[MAX_ROWS * MAX_COLS] __attribute__((aligned(64)));

static int8_t in_l1[MAX_ROWS * MAX_COLS] SNRT_TCDM;
static int32_t w_l1[MAX_COLS] SNRT_TCDM;
static int32_t b_l1[MAX_COLS] SNRT_TCDM;
static int8_t out_l1[MAX_ROWS * MAX_COLS] SNRT_TCDM;

static void row(const int8_t *x, int8_t *y, int32_t n, int32_t off, int32_t log2d) {
  int32_t sum = 0;
  for (int32_t j = 0; j < n; j++) sum += x[j] + off;
  int32_t mean = sum / n;
  int32_t ss = 0;
  for (int32_t j = 0; j < n; j++) {
    int32_t d = x[j] + off - mean;
    ss += d * d;
  }
  int32_t std = isqrt(ss / n + 1);
  for (int32_t j = 0; j < n; j++) {
    int32_t d = x[j] + off - mean;
    y[j] = (int8_t)((d * w_l1[j] / std + b_l1[j]) >> log2d);
  }
}

int main(uint32_t hart) {
  const uint32_t rows = layernorm_args.rows, cols = layernorm_args.cols;
  const int32_t off = layernorm_args.offset, log2d = layernorm_args.log2d;
  if (hart == SNRT_DMA_CORE) {
    snrt_dma_start_1d(in_l1, layernorm_in, rows * cols);
    snrt_dma_start_1d(w_l1, layernorm_w, cols * 4);
    snrt_dma_start_1d(b_l1, layernorm_b, cols * 4);
    snrt_dma_wait_all();
  }
  snrt_cluster_barrier();
  uint32_t t0 = snrt_mcycle();
  if (hart < SNRT_COMPUTE_CORES) {
    for (uint32_t r = hart; r < rows; r += SNRT_COMPUTE_CORES)
      row(&in_l1[r * cols], &out_l1[r * cols], (int32_t)cols, off, log2d);
  }
  snrt_cluster_barrier();
  uint32_t t1 = snrt_mcycle();
  if (hart == SNRT_DMA_CORE) {
    snrt_dma_start_1d(layernorm_out, out_l1, rows * cols);
    snrt_dma_wait_all();
  }
  snrt_cluster_barrier();
  if (hart == 0) layernorm_args.compute_cycles = t1 - t0;
  return 0;
}
