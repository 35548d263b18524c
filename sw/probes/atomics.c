#include "snrt.h"
static volatile uint32_t tc SNRT_TCDM;
static volatile uint32_t tc2 SNRT_TCDM;
volatile uint32_t dram_w = 0;
volatile uint32_t dram_w2 = 0;
static inline void lrsc_inc(volatile uint32_t *a) {
  uint32_t t, r;
  __asm__ volatile("1: lr.w %0, (%2)\n addi %0, %0, 1\n sc.w %1, %0, (%2)\n bnez %1, 1b"
                   : "=&r"(t), "=&r"(r) : "r"(a) : "memory");
}
int main(uint32_t h) {
  snrt_cluster_barrier();
  if (h < 8) {
    for (int i = 0; i < 100; i++) {
      __atomic_fetch_add(&tc, 1, __ATOMIC_RELAXED);
      __atomic_fetch_add(&dram_w, 1, __ATOMIC_RELAXED);
    }
  }
  snrt_cluster_barrier();
  if (h < 8) {
    for (int i = 0; i < 20; i++) { lrsc_inc(&tc2); lrsc_inc(&dram_w2); }
  }
  snrt_cluster_barrier();
  if (h == 0) {
    if (tc != 800) return 1;
    if (dram_w != 800) return 2;
    if (tc2 != 160) return 3;
    if (dram_w2 != 160) return 4;
  }
  return 0;
}
