/* int8 GEMM with requantisation on the 8 compute cores:
     C[i][j] = requant(bias[j] + sum_k A[i][k] * Bt[j][k])
   A is M x K, Bt is N x K (weights stored transposed), C is M x N, all row-major int8; K is a
   multiple of 4. The DMA core brings A, Bt and the bias into the TCDM, core c computes rows
   c, c+8, ..., the DMA core writes C back. Core 0 records the cycles of the compute phase. */
#include "snrt.h"

#define MAX_DIM 64

struct gemm_args {
  uint32_t m, n, k;
  int32_t mult, shift, add;
  uint32_t compute_cycles, total_cycles;
};

volatile struct gemm_args gemm_args = {64, 64, 64, 1, 8, 0, 0, 0};
int8_t gemm_a[MAX_DIM * MAX_DIM] __attribute__((aligned(64)));
int8_t gemm_bt[MAX_DIM * MAX_DIM] __attribute__((aligned(64)));
int32_t gemm_bias[MAX_DIM] __attribute__((aligned(64)));
int8_t gemm_c[MAX_DIM * MAX_DIM] __attribute__((aligned(64)));

static int8_t a_l1[MAX_DIM * MAX_DIM] SNRT_TCDM;
static int8_t bt_l1[MAX_DIM * MAX_DIM] SNRT_TCDM;
static int32_t bias_l1[MAX_DIM] SNRT_TCDM;
static int8_t c_l1[MAX_DIM * MAX_DIM] SNRT_TCDM;

/* Dot product of two int8 rows of length k (k % 4 == 0), four bytes per load. */
static int32_t dot8(const int8_t *a, const int8_t *b, uint32_t k) {
  const int32_t *wa = (const int32_t *)a;
  const int32_t *wb = (const int32_t *)b;
  int32_t acc = 0;
  for (uint32_t q = 0; q < k / 4; q++) {
    int32_t x = wa[q];
    int32_t y = wb[q];
    acc += (int32_t)(int8_t)x * (int32_t)(int8_t)y;
    acc += ((x << 16) >> 24) * ((y << 16) >> 24);
    acc += ((x << 8) >> 24) * ((y << 8) >> 24);
    acc += (x >> 24) * (y >> 24);
  }
  return acc;
}

int main(uint32_t hart) {
  const uint32_t m = gemm_args.m, n = gemm_args.n, k = gemm_args.k;
  const int32_t mult = gemm_args.mult, shift = gemm_args.shift, add = gemm_args.add;
  uint32_t t_start = snrt_mcycle();
  if (hart == SNRT_DMA_CORE) {
    snrt_dma_start_1d(a_l1, gemm_a, m * k);
    snrt_dma_start_1d(bt_l1, gemm_bt, n * k);
    snrt_dma_start_1d(bias_l1, gemm_bias, n * 4);
    snrt_dma_wait_all();
  }
  snrt_cluster_barrier();
  uint32_t t0 = snrt_mcycle();
  if (hart < SNRT_COMPUTE_CORES) {
    for (uint32_t i = hart; i < m; i += SNRT_COMPUTE_CORES) {
      const int8_t *arow = &a_l1[i * k];
      for (uint32_t j = 0; j < n; j++) {
        int32_t acc = bias_l1[j] + dot8(arow, &bt_l1[j * k], k);
        c_l1[i * n + j] = (int8_t)snrt_requant(acc, mult, shift, add);
      }
    }
  }
  snrt_cluster_barrier();
  uint32_t t1 = snrt_mcycle();
  if (hart == SNRT_DMA_CORE) {
    snrt_dma_start_1d(gemm_c, c_l1, m * n);
    snrt_dma_wait_all();
  }
  snrt_cluster_barrier();
  if (hart == 0) {
    gemm_args.compute_cycles = t1 - t0;
    gemm_args.total_cycles = snrt_mcycle() - t_start;
  }
  return 0;
}
