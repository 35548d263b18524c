#include "snrt.h"
/* Longer DMA queues mixing directions and shapes (-DKIND=n), beside compute harts 0-7. */
static uint8_t dram_src[8192] __attribute__((aligned(64)));
static uint8_t dram_dst[8192] __attribute__((aligned(64)));
static uint8_t tcdm_a[8192] SNRT_TCDM;
static uint8_t tcdm_b[8192] SNRT_TCDM;
static volatile uint32_t work[8][128] SNRT_TCDM;
int main(uint32_t h) {
  if (h == 8) {
    for (int i = 0; i < 8192; i += 4) *(volatile uint32_t *)&tcdm_a[i] = i * 2654435761u;
    for (int i = 0; i < 2048; i += 4) *(volatile uint32_t *)&dram_src[i] = i * 40503u + 7;
  }
  snrt_cluster_barrier();
  if (h == 8) {
#if KIND == 0
    snrt_dma_start_2d(dram_dst, dram_src, 128, 256, 192, 6);
#elif KIND == 1
    snrt_dma_start_1d(dram_dst + 1, tcdm_a + 3, 5000);
    snrt_dma_start_1d(tcdm_b, tcdm_a + 5000, 2000);
#elif KIND == 2
    snrt_dma_start_2d(tcdm_b, tcdm_a, 64, 128, 192, 10);
    snrt_dma_start_1d(dram_dst, tcdm_b + 4096, 512);
    snrt_dma_start_1d(tcdm_b + 4096, dram_src, 512);
    snrt_dma_start_2d(dram_dst + 1024, tcdm_a, 128, 256, 128, 4);
#elif KIND == 3
    for (int k = 0; k < 6; k++) snrt_dma_start_1d(tcdm_b + 1024 * (k & 3), (k & 1) ? dram_src : tcdm_a, 512);
#elif KIND == 4
    snrt_dma_start_1d(dram_dst, dram_src + 64, 4096);
    snrt_dma_start_1d(tcdm_b, tcdm_a, 1024);
#elif KIND == 5
    snrt_dma_start_2d(tcdm_b + 1, dram_src + 2, 100, 130, 140, 12);
    snrt_dma_start_2d(dram_dst + 3, tcdm_a + 4, 90, 100, 110, 12);
#endif
    snrt_dma_wait_all();
  } else {
    volatile uint32_t *w = work[h];
    uint32_t s = h;
    for (int r = 0; r < 3; r++)
      for (int i = 0; i < 128; i++) { s = s * 31 + w[i]; w[i] = s; }
  }
  snrt_cluster_barrier();
  if (h == 0) {
    uint32_t sum = 0;
    for (int i = 0; i < 8192; i += 4) sum = sum * 3 + *(volatile uint32_t *)&tcdm_b[i];
    for (int i = 0; i < 2048; i += 4) sum = sum * 3 + *(volatile uint32_t *)&dram_dst[i];
    return (sum >> 3) % 97;
  }
  return 0;
}
