#include "snrt.h"
/* LR/SC increment loop only; TARGET_DRAM selects the DRAM word, else the TCDM word. */
static volatile uint32_t tc2 SNRT_TCDM;
volatile uint32_t dram_w2 = 0;
static inline void lrsc_inc(volatile uint32_t *a) {
  uint32_t t, r;
  __asm__ volatile("1: lr.w %0, (%2)\n addi %0, %0, 1\n sc.w %1, %0, (%2)\n bnez %1, 1b"
                   : "=&r"(t), "=&r"(r) : "r"(a) : "memory");
}
int main(uint32_t h) {
#ifdef TARGET_DRAM
  volatile uint32_t *a = &dram_w2;
#else
  volatile uint32_t *a = &tc2;
#endif
  snrt_cluster_barrier();
  if (h < NHARTS) for (int i = 0; i < 20; i++) lrsc_inc(a);
  snrt_cluster_barrier();
  if (h == 0 && *a != 20 * NHARTS) return 1;
  return 0;
}
