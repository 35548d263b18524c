/* Residual addition with requantisation on the 8 compute cores:
     out[i] = requant(a[i] + b[i])      (int8 in, int8 out)
   The DMA core stages both inputs in the TCDM; each compute core handles a contiguous slice. */
#include "snrt.h"

#define MAX_LEN 8192

struct residual_args {
  uint32_t len;
  int32_t mult, shift, add;
  uint32_t compute_cycles;
};

volatile struct residual_args residual_args = {MAX_LEN, 1, 1, 0, 0};
int8_t residual_a[MAX_LEN] __attribute__((aligned(64)));
int8_t residual_b[MAX_LEN] __attribute__((aligned(64)));
int8_t residual_out[MAX_LEN] __attribute__((aligned(64)));

static int8_t a_l1[MAX_LEN] SNRT_TCDM;
static int8_t b_l1[MAX_LEN] SNRT_TCDM;
static int8_t o_l1[MAX_LEN] SNRT_TCDM;

int main(uint32_t hart) {
  const uint32_t len = residual_args.len;
  const int32_t mult = residual_args.mult, shift = residual_args.shift, add = residual_args.add;
  if (hart == SNRT_DMA_CORE) {
    snrt_dma_start_1d(a_l1, residual_a, len);
    snrt_dma_start_1d(b_l1, residual_b, len);
    snrt_dma_wait_all();
  }
  snrt_cluster_barrier();
  uint32_t t0 = snrt_mcycle();
  if (hart < SNRT_COMPUTE_CORES) {
    uint32_t chunk = (len + SNRT_COMPUTE_CORES - 1) / SNRT_COMPUTE_CORES;
    uint32_t lo = hart * chunk;
    uint32_t hi = lo + chunk < len ? lo + chunk : len;
    for (uint32_t i = lo; i < hi; i++) o_l1[i] = (int8_t)snrt_requant(a_l1[i] + b_l1[i], mult, shift, add);
  }
  snrt_cluster_barrier();
  uint32_t t1 = snrt_mcycle();
  if (hart == SNRT_DMA_CORE) {
    snrt_dma_start_1d(residual_out, o_l1, len);
    snrt_dma_wait_all();
  }
  snrt_cluster_barrier();
  if (hart == 0) residual_args.compute_cycles = t1 - t0;
  return 0;
}
