/* Integer helpers shared by the kernels. */
#pragma once
#include <stdint.h>

/* Largest r with r * r <= v (0 <= v < 2^31), by bisection: no division, no multiply beyond 46340^2. */
static inline int32_t isqrt(int32_t v) {
  int32_t lo = 0, hi = 46341;
  while (hi - lo > 1) {
    int32_t mid = (lo + hi) >> 1;
    if (mid * mid <= v) lo = mid;
    else hi = mid;
  }
  return lo;
}
