#include "snrt.h"
/* LR/SC on DRAM words mixed with plain stores and AMOs of other harts (-DKIND=n). */
volatile uint32_t dx = 0;
volatile uint32_t dy[8] = {0};
volatile uint32_t dz = 0;
static inline void lrsc_inc(volatile uint32_t *a) {
  uint32_t t, r;
  __asm__ volatile("1: lr.w %0, (%2)\n addi %0, %0, 1\n sc.w %1, %0, (%2)\n bnez %1, 1b"
                   : "=&r"(t), "=&r"(r) : "r"(a) : "memory");
}
static inline uint32_t store_sc(volatile uint32_t *s, volatile uint32_t *a, uint32_t v) {
  uint32_t r;
  __asm__ volatile("sw %2, 0(%1)\n sc.w %0, %2, (%3)" : "=&r"(r) : "r"(s), "r"(v), "r"(a) : "memory");
  return r;
}
int main(uint32_t h) {
  snrt_cluster_barrier();
  uint32_t acc = 0;
#if KIND == 0
  if (h == 0) for (int i = 0; i < 20; i++) lrsc_inc(&dx);
  else if (h == 1) for (int i = 0; i < 30; i++) dx = dx + 0; /* plain stores to the reserved word */
#elif KIND == 1
  if (h < 4) for (int i = 0; i < 15; i++) lrsc_inc(&dx);
  else if (h < 8) for (int i = 0; i < 40; i++) dy[h] = i;
#elif KIND == 2
  if (h < 8) for (int i = 0; i < 20; i++) acc += store_sc(&dy[h], &dx, i);
#elif KIND == 3
  if (h < 4) for (int i = 0; i < 15; i++) lrsc_inc(&dx);
  else if (h < 8) for (int i = 0; i < 15; i++) __atomic_fetch_add(&dz, 1, __ATOMIC_RELAXED);
#endif
  snrt_cluster_barrier();
  if (h == 0) return (dx + dz + acc) % 97;
  return 0;
}
