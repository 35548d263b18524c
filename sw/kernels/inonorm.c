/* iNoNorm (integer NoNorm, an element-wise affine map used in place of LayerNorm), on the 8
   compute cores: y[i] = int8(((x[i] * w[i] + b[i]) * mul) >> log2D), wrapping to 8 bits. */
#include "snrt.h"

#define MAX_LEN 8192

struct inonorm_args {
  uint32_t len;
  int32_t mul, log2d;
  uint32_t compute_cycles;
};

volatile struct inonorm_args inonorm_args = {MAX_LEN, 1, 0, 0};
int8_t inonorm_in[MAX_LEN] __attribute__((aligned(64)));
int8_t inonorm_w[MAX_LEN] __attribute__((aligned(64)));
int32_t inonorm_b[MAX_LEN] __attribute__((aligned(64)));
int8_t inonorm_out[MAX_LEN] __attribute__((aligned(64)));

static int8_t in_l1[MAX_LEN] SNRT_TCDM;
static int8_t w_l1[MAX_LEN] SNRT_TCDM;
static int32_t b_l1[MAX_LEN] SNRT_TCDM;
static int8_t out_l1[MAX_LEN] SNRT_TCDM;

int main(uint32_t hart) {
  const uint32_t len = inonorm_args.len;
  const int32_t mul = inonorm_args.mul, log2d = inonorm_args.log2d;
  if (hart == SNRT_DMA_CORE) {
    snrt_dma_start_1d(in_l1, inonorm_in, len);
    snrt_dma_start_1d(w_l1, inonorm_w, len);
    snrt_dma_start_1d(b_l1, inonorm_b, len * 4);
    snrt_dma_wait_all();
  }
  snrt_cluster_barrier();
  uint32_t t0 = snrt_mcycle();
  if (hart < SNRT_COMPUTE_CORES) {
    for (uint32_t i = hart; i < len; i += SNRT_COMPUTE_CORES)
      out_l1[i] = (int8_t)(((in_l1[i] * w_l1[i] + b_l1[i]) * mul) >> log2d);
  }
  snrt_cluster_barrier();
  uint32_t t1 = snrt_mcycle();
  if (hart == SNRT_DMA_CORE) {
    snrt_dma_start_1d(inonorm_out, out_l1, len);
    snrt_dma_wait_all();
  }
  snrt_cluster_barrier();
  if (hart == 0) inonorm_args.compute_cycles = t1 - t0;
  return 0;
}
