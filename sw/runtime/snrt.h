/* Bare-metal runtime of the itasim Snitch cluster: core index, hardware barrier, cycle counter,
   DMA (Xdma) helpers. Header-only; every function is a few instructions. */
#ifndef SNRT_H
#define SNRT_H

#include <stdint.h>
#include <stddef.h>

#define SNRT_COMPUTE_CORES 8u
#define SNRT_DMA_CORE SNRT_COMPUTE_CORES
#define SNRT_TCDM __attribute__((section(".tcdm"), aligned(64)))
#define SNRT_PERIPH_BASE 0x10020000u

static inline uint32_t snrt_hartid(void) {
  uint32_t r;
  __asm__ volatile("csrr %0, mhartid" : "=r"(r));
  return r;
}

static inline int snrt_is_dma_core(void) { return snrt_hartid() == SNRT_DMA_CORE; }

/* All 9 cores wait here until every one has arrived (CSR 0x7C2, snitch_barrier). */
static inline void snrt_cluster_barrier(void) { __asm__ volatile("csrr x0, 0x7c2" ::: "memory"); }

static inline uint32_t snrt_mcycle(void) {
  uint32_t r;
  __asm__ volatile("csrr %0, mcycle" : "=r"(r)::"memory");
  return r;
}

static inline uint32_t snrt_minstret(void) {
  uint32_t r;
  __asm__ volatile("csrr %0, minstret" : "=r"(r)::"memory");
  return r;
}

/* Xdma: custom-1 opcode (0x2b), funct7 selects the instruction. */
static inline void snrt_dma_src(const volatile void *src) {
  __asm__ volatile(".insn r 0x2b, 0, 0, x0, %0, x0" ::"r"(src) : "memory");
}
static inline void snrt_dma_dst(volatile void *dst) {
  __asm__ volatile(".insn r 0x2b, 0, 1, x0, %0, x0" ::"r"(dst) : "memory");
}

/* Starts a 1-D copy of `size` bytes; returns its transfer id. */
static inline uint32_t snrt_dma_start_1d(volatile void *dst, const volatile void *src, uint32_t size) {
  uint32_t id;
  snrt_dma_src(src);
  snrt_dma_dst(dst);
  __asm__ volatile(".insn r 0x2b, 0, 2, %0, %1, x0" : "=r"(id) : "r"(size) : "memory");
  return id;
}

/* Starts a 2-D copy: `reps` rows of `size` bytes with the given strides; returns its id. */
static inline uint32_t snrt_dma_start_2d(volatile void *dst, const volatile void *src, uint32_t size,
                                         uint32_t dst_stride, uint32_t src_stride, uint32_t reps) {
  uint32_t id;
  snrt_dma_src(src);
  snrt_dma_dst(dst);
  __asm__ volatile(".insn r 0x2b, 0, 6, x0, %0, %1" ::"r"(src_stride), "r"(dst_stride) : "memory");
  __asm__ volatile(".insn r 0x2b, 0, 7, x0, %0, x0" ::"r"(reps) : "memory");
  __asm__ volatile(".insn r 0x2b, 0, 2, %0, %1, x2" : "=r"(id) : "r"(size) : "memory");
  return id;
}

/* Id of the last completed transfer plus one (DMSTATI 0). */
static inline uint32_t snrt_dma_completed(void) {
  uint32_t r;
  __asm__ volatile(".insn r 0x2b, 0, 4, %0, x0, x0" : "=r"(r)::"memory");
  return r;
}

static inline void snrt_dma_wait(uint32_t id) {
  while ((int32_t)(snrt_dma_completed() - id) <= 0) {
  }
}

/* Waits until the DMA is idle (DMSTATI 2). */
static inline void snrt_dma_wait_all(void) {
  uint32_t busy;
  do {
    __asm__ volatile(".insn r 0x2b, 0, 4, %0, x0, x2" : "=r"(busy)::"memory");
  } while (busy);
}

/* ITA's requantiser: (mult * x) >> shift rounded half up, plus add, saturated to int8. */
static inline int32_t snrt_requant(int32_t x, int32_t mult, int32_t shift, int32_t add) {
  int64_t p = (int64_t)mult * x;
  if (shift > 0) p = (p + ((int64_t)1 << (shift - 1))) >> shift;
  int64_t v = p + add;
  return v > 127 ? 127 : v < -128 ? -128 : (int32_t)v;
}

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);

#endif
