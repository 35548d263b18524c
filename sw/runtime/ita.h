/* Driver of ITA's HWPE on the cluster (snitch_hwpe_subsystem): configuration port at HWPE_BASE
   (hwpe-ctrl register file: fixed registers, then 17 job registers from 0x20), TCDM pointers
   given as offsets from the L1 start, busy and event lines readable in the cluster peripherals
   (HWPE_EVT 0x1a0, HWPE_BUSY 0x1a8); a completion event also sets the core's CL_CLINT bit, so a
   core may sleep in wfi until then. Header-only. */
#ifndef ITA_H
#define ITA_H

#include "snrt.h"

#define ITA_HWPE_BASE 0x10040000u
#define ITA_L1_START 0x10000000u

/* hwpe-ctrl fixed registers */
#define ITA_TRIGGER 0x00u
#define ITA_ACQUIRE 0x04u
#define ITA_FINISHED 0x08u
#define ITA_STATUS 0x0cu
#define ITA_RUNNING_JOB 0x10u
#define ITA_SOFT_CLEAR 0x14u

/* job registers (index k at 0x20 + 4k) */
enum {
  ITA_REG_INPUT_PTR,
  ITA_REG_WEIGHT_PTR0,
  ITA_REG_WEIGHT_PTR1,
  ITA_REG_BIAS_PTR,
  ITA_REG_OUTPUT_PTR,
  ITA_REG_SEQ_LENGTH,
  ITA_REG_TILES, /* tile_s [3:0], tile_e [7:4], tile_p [11:8], tile_f [15:12] */
  ITA_REG_EPS_MULT0,
  ITA_REG_EPS_MULT1,
  ITA_REG_RIGHT_SHIFT0,
  ITA_REG_RIGHT_SHIFT1,
  ITA_REG_ADD0,
  ITA_REG_ADD1,
  ITA_REG_CTRL_ENGINE, /* layer [1:0], activation [3:2] */
  ITA_REG_CTRL_STREAM, /* preload, next-load, bias disable, bias direction, output disable */
  ITA_REG_GELU_B_C,
  ITA_REG_ACTIVATION_REQUANT,
};

#define ITA_STREAM_PRELOAD 0x01u
#define ITA_STREAM_NEXTLOAD 0x02u
#define ITA_STREAM_BIAS_DISABLE 0x04u
#define ITA_STREAM_BIAS_DIR 0x08u
#define ITA_STREAM_OUTPUT_DISABLE 0x10u

#define SNRT_HWPE_EVT (SNRT_PERIPH_BASE + 0x1a0u)
#define SNRT_HWPE_BUSY (SNRT_PERIPH_BASE + 0x1a8u)
#define SNRT_CL_CLINT_CLEAR (SNRT_PERIPH_BASE + 0x188u)

static inline void ita_write(uint32_t off, uint32_t v) { *(volatile uint32_t *)(ITA_HWPE_BASE + off) = v; }
static inline uint32_t ita_read(uint32_t off) { return *(volatile uint32_t *)(ITA_HWPE_BASE + off); }
static inline void ita_reg(uint32_t k, uint32_t v) { ita_write(0x20u + 4u * k, v); }

/* The HWPE's view of an L1 address. */
static inline uint32_t ita_ptr(const volatile void *p) { return (uint32_t)p - ITA_L1_START; }

static inline uint32_t ita_busy(void) { return *(volatile uint32_t *)SNRT_HWPE_BUSY; }

/* Clears the HWPE and its register file. */
static inline void ita_soft_clear(void) { ita_write(ITA_SOFT_CLEAR, 0); }

/* Takes a job context: ACQUIRE returns its id, or a negative value while none is free. */
static inline int32_t ita_acquire(void) {
  int32_t id;
  do {
    id = (int32_t)ita_read(ITA_ACQUIRE);
  } while (id < 0);
  return id;
}

/* Commits the programmed job; it starts when the HWPE is free. */
static inline void ita_trigger(void) { ita_write(ITA_TRIGGER, 0); }

/* Busy-waits until the HWPE is idle (the paper's driver). */
static inline void ita_wait_idle(void) {
  while (ita_busy()) {
  }
}

/* Sleeps until the HWPE is idle: each completion event sets this core's CL_CLINT bit and wakes
   it from wfi (mie.MCIE enabled, mstatus.MIE off: no trap). */
static inline void ita_wait_event(void) {
  uint32_t me = 1u << snrt_hartid();
  __asm__ volatile("csrs mie, %0" ::"r"(1u << 19));
  *(volatile uint32_t *)SNRT_CL_CLINT_CLEAR = me;
  while (ita_busy()) {
    __asm__ volatile("wfi");
    *(volatile uint32_t *)SNRT_CL_CLINT_CLEAR = me;
  }
}

#endif
