#include "snrt.h"
static uint8_t dram_src[8192] __attribute__((aligned(64)));
static uint8_t dram_dst[8192] __attribute__((aligned(64)));
static uint8_t tcdm_a[8192] SNRT_TCDM;
static uint8_t tcdm_b[8192] SNRT_TCDM;
static volatile uint32_t work[8][128] SNRT_TCDM;
int main(uint32_t h) {
  if (h == 8) {
    for (int i = 0; i < 8192; i += 4) *(volatile uint32_t *)&dram_src[i] = i * 2654435761u;
  }
  snrt_cluster_barrier();
  if (h == 8) {
    snrt_dma_start_1d(tcdm_a, dram_src, 64); snrt_dma_wait_all();
    snrt_dma_start_1d(tcdm_a + 64, dram_src + 64, 1000); snrt_dma_wait_all();
    snrt_dma_start_1d(tcdm_a, dram_src, 4096); snrt_dma_wait_all();
    snrt_dma_start_1d(tcdm_b + 8, dram_src + 3, 1000); snrt_dma_wait_all();   /* unaligned src */
    snrt_dma_start_1d(dram_dst, tcdm_a, 64); snrt_dma_wait_all();
    snrt_dma_start_1d(dram_dst + 64, tcdm_a + 64, 1000); snrt_dma_wait_all();
    snrt_dma_start_1d(dram_dst, tcdm_a, 4096); snrt_dma_wait_all();
    snrt_dma_start_1d(tcdm_b, tcdm_a, 64); snrt_dma_wait_all();
    snrt_dma_start_1d(tcdm_b + 64, tcdm_a + 5, 1000); snrt_dma_wait_all();
    snrt_dma_start_1d(tcdm_b, tcdm_a, 4096); snrt_dma_wait_all();
    snrt_dma_start_2d(tcdm_b, dram_src, 256, 512, 1024, 8); snrt_dma_wait_all();
    snrt_dma_start_2d(dram_dst, tcdm_a, 256, 768, 320, 8); snrt_dma_wait_all();
  } else {
    volatile uint32_t *w = work[h];
    uint32_t s = h;
    for (int r = 0; r < 6; r++)
      for (int i = 0; i < 128; i++) { s = s * 31 + w[i]; w[i] = s; }
  }
  snrt_cluster_barrier();
  if (h == 0) {
    for (int i = 0; i < 512; i++) if (tcdm_b[i] != dram_src[i]) return 1;
  }
  return 0;
}
