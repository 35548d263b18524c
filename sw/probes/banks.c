#include "snrt.h"
/* 8 compute harts, 200 loads/stores each. Harts 0-3 hit the same bank (stride 256 B apart rows),
   harts 4-7 each their own banks; harts 0,1 phase 2 switch to sharing with 4,5. */
static volatile uint32_t buf[8192] SNRT_TCDM;
int main(uint32_t h) {
  snrt_cluster_barrier();
  if (h < 8) {
    volatile uint32_t *p;
    if (h < 4) p = &buf[h * 64];          /* same bank offset 0, different rows (256 B apart) */
    else p = &buf[4096 + h * 66];         /* distinct banks */
    uint32_t s = 0;
    for (int i = 0; i < 100; i++) {
      s += p[0];
      p[0] = s + i;
    }
    volatile uint32_t *q = (h & 1) ? &buf[2048 + h * 2] : &buf[2048 + 512 + h * 64 + 2];
    for (int i = 0; i < 50; i++) {
      s += q[0];
      q[1] = s;
    }
    buf[6000 + h] = s;
  }
  snrt_cluster_barrier();
  return 0;
}
