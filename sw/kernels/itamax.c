/* ITAMax, ITA's integer softmax, row by row on the 8 compute cores (int8 in, uint8 out).
   Pass 1 walks a row in groups of 16: running maximum and a 19-bit running sum of
   2^8 >> (max - x), the sum shifted right when a group raises the maximum; the sum is inverted as
   floor(65280 / sum). Pass 2 outputs inverse >> (max - x), truncated to 8 bits. */
#include "snrt.h"

#define MAX_ROWS 64
#define MAX_COLS 256
#define GROUP 16
#define ACC_BITS 19

struct itamax_args {
  uint32_t rows, cols;
  uint32_t compute_cycles;
};

volatile struct itamax_args itamax_args = {64, 64, 0};
int8_t itamax_in[MAX_ROWS * MAX_COLS] __attribute__((aligned(64)));
uint8_t itamax_out[MAX_ROWS * MAX_COLS] __attribute__((aligned(64)));

static int8_t in_l1[MAX_ROWS * MAX_COLS] SNRT_TCDM;
static uint8_t out_l1[MAX_ROWS * MAX_COLS] SNRT_TCDM;

static inline uint32_t shr(uint32_t x, int32_t s, int32_t width) { return s >= width ? 0 : x >> s; }

static void row(const int8_t *x, uint8_t *y, uint32_t cols) {
  int32_t max = -128;
  uint32_t sum = 0;
  for (uint32_t g = 0; g < cols; g += GROUP) {
    int32_t gmax = -128;
    for (uint32_t i = 0; i < GROUP; i++)
      if (x[g + i] > gmax) gmax = x[g + i];
    int32_t nmax = max > gmax ? max : gmax;
    uint32_t s = g == 0 ? 0 : shr(sum, nmax - max, ACC_BITS);
    for (uint32_t i = 0; i < GROUP; i++) s += shr(256, nmax - x[g + i], 9);
    sum = s & ((1u << ACC_BITS) - 1);
    max = nmax;
  }
  uint32_t inverse = sum == 0 ? (1u << (ACC_BITS + 1)) - 1 : 65280u / sum;
  inverse &= (1u << ACC_BITS) - 1;
  for (uint32_t c = 0; c < cols; c++) y[c] = (uint8_t)shr(inverse, max - x[c], ACC_BITS);
}

int main(uint32_t hart) {
  const uint32_t rows = itamax_args.rows, cols = itamax_args.cols;
  if (hart == SNRT_DMA_CORE) {
    snrt_dma_start_1d(in_l1, itamax_in, rows * cols);
    snrt_dma_wait_all();
  }
  snrt_cluster_barrier();
  uint32_t t0 = snrt_mcycle();
  if (hart < SNRT_COMPUTE_CORES) {
    for (uint32_t r = hart; r < rows; r += SNRT_COMPUTE_CORES) row(&in_l1[r * cols], &out_l1[r * cols], cols);
  }
  snrt_cluster_barrier();
  uint32_t t1 = snrt_mcycle();
  if (hart == SNRT_DMA_CORE) {
    snrt_dma_start_1d(itamax_out, out_l1, rows * cols);
    snrt_dma_wait_all();
  }
  snrt_cluster_barrier();
  if (hart == 0) itamax_args.compute_cycles = t1 - t0;
  return 0;
}
