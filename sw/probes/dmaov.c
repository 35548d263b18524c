#include "snrt.h"
/* Overlapping copies (-DKIND=n): the data a DMA writes is what it read, not what is there later. */
static uint8_t dram_src[8192] __attribute__((aligned(64)));
static uint8_t tcdm_a[8192] SNRT_TCDM;
static volatile uint32_t work[8][128] SNRT_TCDM;
int main(uint32_t h) {
  if (h == 8) {
    for (int i = 0; i < 4096; i += 4) *(volatile uint32_t *)&tcdm_a[i] = i * 2654435761u;
    for (int i = 0; i < 4096; i += 4) *(volatile uint32_t *)&dram_src[i] = i * 40503u + 7;
  }
  snrt_cluster_barrier();
  if (h == 8) {
#if KIND == 0
    snrt_dma_start_1d(tcdm_a + 64, tcdm_a, 1024);
#elif KIND == 1
    snrt_dma_start_1d(tcdm_a + 3, tcdm_a, 1024);
#elif KIND == 2
    snrt_dma_start_1d(dram_src + 128, dram_src, 2048);
#endif
    snrt_dma_wait_all();
  } else {
    volatile uint32_t *w = work[h];
    uint32_t s = h;
    for (int i = 0; i < 128; i++) { s = s * 31 + w[i]; w[i] = s; }
  }
  snrt_cluster_barrier();
  if (h == 0) {
    uint32_t sum = 0;
    for (int i = 0; i < 2048; i += 4) sum = sum * 3 + *(volatile uint32_t *)&tcdm_a[i];
    for (int i = 0; i < 2560; i += 4) sum = sum * 3 + *(volatile uint32_t *)&dram_src[i];
    return (sum >> 3) % 97;
  }
  return 0;
}
