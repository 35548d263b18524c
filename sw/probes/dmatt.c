#include "snrt.h"
/* TCDM -> TCDM and mixed-direction DMA transfers (selected by -DKIND=n) beside compute harts 0-7. */
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
    snrt_dma_start_2d(tcdm_b, tcdm_a, 256, 512, 320, 6);
#elif KIND == 1
    snrt_dma_start_2d(tcdm_b + 4, tcdm_a + 8, 200, 260, 300, 5);
#elif KIND == 2
    snrt_dma_start_1d(tcdm_b, dram_src, 2048);
    snrt_dma_start_1d(dram_dst, tcdm_a, 2048);
    snrt_dma_start_1d(tcdm_b + 4096, tcdm_a + 4096, 1024);
#elif KIND == 3
    snrt_dma_start_1d(tcdm_b, tcdm_a, 2048);
    snrt_dma_start_1d(tcdm_b + 2048, dram_src, 1024);
    snrt_dma_start_1d(tcdm_b + 4096, tcdm_a + 4096, 512);
#elif KIND == 4
    snrt_dma_start_1d(tcdm_b, tcdm_a, 4096);
#elif KIND == 5
    uint32_t id = snrt_dma_start_1d(tcdm_b, tcdm_a, 64);
    id = snrt_dma_start_1d(tcdm_b + 128, tcdm_a + 64, 128);
    id = snrt_dma_start_1d(tcdm_b + 320, tcdm_a + 256, 192);
    snrt_dma_wait(id - 1);
#elif KIND == 6
    snrt_dma_start_1d(dram_dst, tcdm_a, 1024);
    snrt_dma_start_1d(tcdm_b, tcdm_a + 1024, 1024);
#elif KIND == 7
    snrt_dma_start_1d(tcdm_b, dram_src, 1024);
    snrt_dma_start_1d(tcdm_b + 2048, tcdm_b, 1024);
#endif
    snrt_dma_wait_all();
  } else {
    volatile uint32_t *w = work[h];
    uint32_t s = h;
#if KIND == 4
    /* the cores read the copy's source while it runs */
    volatile uint32_t *a = (volatile uint32_t *)tcdm_a;
    for (int r = 0; r < 3; r++)
      for (int i = 0; i < 128; i++) { s = s * 31 + a[(i * 8 + h) & 1023]; w[i] = s; }
#else
    for (int r = 0; r < 3; r++)
      for (int i = 0; i < 128; i++) { s = s * 31 + w[i]; w[i] = s; }
#endif
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
