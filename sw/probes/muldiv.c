#include "snrt.h"
static volatile uint32_t out[16] SNRT_TCDM;
int main(uint32_t h) {
  snrt_cluster_barrier();
  if (h < 8) {
    uint32_t a = 0x12345 * (h + 1) + 7, b = 3 + h;
    int32_t x = -1000 * (int32_t)h - 5;
    for (int i = 0; i < 60; i++) {
      uint32_t m; int32_t mh, d, r;
      __asm__ volatile("mul %0, %1, %2" : "=r"(m) : "r"(a), "r"(b));
      __asm__ volatile("mulh %0, %1, %2" : "=r"(mh) : "r"(a), "r"(m));
      __asm__ volatile("div %0, %1, %2" : "=r"(d) : "r"(x), "r"((b & 31) + 1));
      __asm__ volatile("rem %0, %1, %2" : "=r"(r) : "r"(m), "r"((int32_t)(a >> (i & 15)) | 1));
      a = a * 1664525u + 1013904223u + (uint32_t)d;
      b = (b ^ (uint32_t)r) + (uint32_t)mh;
      x = x + d - r + (int32_t)m;
    }
    out[h] = a ^ b ^ (uint32_t)x;
  }
  snrt_cluster_barrier();
  return 0;
}
