#include "snrt.h"
/* Pseudo-random addresses in a 2 KiB TCDM window (heavy, irregular bank conflicts), mixed widths,
   back-to-back loads/stores without dependencies between them. */
static volatile uint8_t win[2048] SNRT_TCDM;
static volatile uint32_t out[8] SNRT_TCDM;
int main(uint32_t h) {
  snrt_cluster_barrier();
  if (h < 8) {
    uint32_t x = 0x9e3779b9u * (h + 1), s = 0;
    for (int i = 0; i < 100; i++) {
      x = x * 1664525u + 1013904223u;
      uint32_t a = (x >> 8) & 0x7fc, b = (x >> 19) & 0x7fe, c = (x >> 3) & 0x7ff;
      s += *(volatile uint32_t *)&win[a];
      *(volatile uint16_t *)&win[b] = (uint16_t)s;
      s ^= win[c];
      *(volatile uint32_t *)&win[(a + 256) & 0x7fc] = x;
    }
    out[h] = s;
  }
  snrt_cluster_barrier();
  return 0;
}
