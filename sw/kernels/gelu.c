/* ITA's integer GELU (I-BERT polynomial with 16-bit constants and a 26-bit datapath) followed by
   the activation requantiser, element-wise on the 8 compute cores (int8 in, int8 out). */
#include "snrt.h"

#define MAX_LEN 8192

struct gelu_args {
  uint32_t len;
  int32_t b, c;
  int32_t mult, shift, add;
  uint32_t compute_cycles;
};

volatile struct gelu_args gelu_args = {MAX_LEN, -1, 1, 1, 0, 0, 0};
int8_t gelu_in[MAX_LEN] __attribute__((aligned(64)));
int8_t gelu_out[MAX_LEN] __attribute__((aligned(64)));

static int8_t in_l1[MAX_LEN] SNRT_TCDM;
static int8_t out_l1[MAX_LEN] SNRT_TCDM;

/* Low w bits of v, sign-extended. */
static inline int32_t wrap(int32_t v, int w) { return (int32_t)((uint32_t)v << (32 - w)) >> (32 - w); }

static int32_t gelu_raw(int32_t x, int32_t b, int32_t c) {
  int negative = x < 0;
  int32_t abs = wrap(negative ? -x : x, 16);
  int32_t limit = wrap(-b, 16);
  int32_t clipped = abs > limit ? limit : abs;
  int32_t poly = wrap(clipped + b, 16);
  int32_t square = wrap(poly * poly, 26);
  int32_t erf_l = wrap(square + c, 26);
  int32_t erf = negative ? wrap(-erf_l, 26) : erf_l;
  int32_t sum = wrap(erf + c, 26);
  return wrap(x * sum, 26);
}

int main(uint32_t hart) {
  const uint32_t len = gelu_args.len;
  const int32_t b = gelu_args.b, c = gelu_args.c;
  const int32_t mult = gelu_args.mult, shift = gelu_args.shift, add = gelu_args.add;
  if (hart == SNRT_DMA_CORE) {
    snrt_dma_start_1d(in_l1, gelu_in, len);
    snrt_dma_wait_all();
  }
  snrt_cluster_barrier();
  uint32_t t0 = snrt_mcycle();
  if (hart < SNRT_COMPUTE_CORES) {
    for (uint32_t i = hart; i < len; i += SNRT_COMPUTE_CORES)
      out_l1[i] = (int8_t)snrt_requant(gelu_raw(in_l1[i], b, c), mult, shift, add);
  }
  snrt_cluster_barrier();
  uint32_t t1 = snrt_mcycle();
  if (hart == SNRT_DMA_CORE) {
    snrt_dma_start_1d(gelu_out, out_l1, len);
    snrt_dma_wait_all();
  }
  snrt_cluster_barrier();
  if (hart == 0) gelu_args.compute_cycles = t1 - t0;
  return 0;
}
