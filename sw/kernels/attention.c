/* One attention head of ITA's integer Transformer on the cluster alone (the baseline ITA is
   measured against), with ITA's arithmetic: 26-bit accumulators, 24-bit biases, requantisation
   after every matmul and ITAMax softmax.
     Qp = rq(Q Wq + Bq)   Kp = rq(K Wk + Bk)   Vp = rq(K Wv + Bv)
     A  = rq(Qp Kp^T)     A_soft = ITAMax(A)   O = rq(A_soft V)   Out = rq(O Wo + Bo)
   Weights are given transposed (Wt = W^T, so every matmul streams both operands along the inner
   dimension). The DMA core stages everything in the TCDM, the 8 compute cores split the rows of
   each step, the DMA core writes every result back. Core 0 records the cycles of each step. */
#include "snrt.h"

#define MAXD 64

struct attn_args {
  uint32_t s, e, p;
  int32_t rq[6][3]; /* Q, K, V, QK, AV, OW: mult, shift, add */
  uint32_t step_cycles[6];
  uint32_t total_cycles;
};

volatile struct attn_args attn_args;
int8_t attn_q[MAXD * MAXD] __attribute__((aligned(64)));
int8_t attn_k[MAXD * MAXD] __attribute__((aligned(64)));
int8_t attn_wqt[MAXD * MAXD] __attribute__((aligned(64)));
int8_t attn_wkt[MAXD * MAXD] __attribute__((aligned(64)));
int8_t attn_wvt[MAXD * MAXD] __attribute__((aligned(64)));
int8_t attn_wot[MAXD * MAXD] __attribute__((aligned(64)));
int32_t attn_bias[4 * MAXD] __attribute__((aligned(64))); /* Bq, Bk, Bv, Bo */
/* results: Qp, Kp, Vp^T, A, A_soft, O, Out */
int8_t attn_out[7 * MAXD * MAXD] __attribute__((aligned(64)));

static int8_t q_l1[MAXD * MAXD] SNRT_TCDM;
static int8_t k_l1[MAXD * MAXD] SNRT_TCDM;
static int8_t w_l1[4][MAXD * MAXD] SNRT_TCDM;
static int32_t bias_l1[4 * MAXD] SNRT_TCDM;
static int8_t res_l1[7][MAXD * MAXD] SNRT_TCDM;

struct mm {
  const int8_t *x;  /* rows x inner */
  const int8_t *wt; /* cols x inner */
  const int32_t *bias;
  int8_t *out;
  uint32_t rows, inner, cols;
  const volatile int32_t *rq;
  int x_unsigned, out_transposed;
};

static inline int32_t s8(int32_t w, int b) { return (w << (24 - 8 * b)) >> 24; }
static inline int32_t u8(int32_t w, int b) { return (int32_t)(((uint32_t)w << (24 - 8 * b)) >> 24); }

static int32_t dot(const int8_t *a, const int8_t *b, uint32_t k, int a_unsigned) {
  const int32_t *wa = (const int32_t *)a;
  const int32_t *wb = (const int32_t *)b;
  int32_t acc = 0;
  if (a_unsigned) {
    for (uint32_t q = 0; q < k / 4; q++) {
      int32_t x = wa[q], y = wb[q];
      acc += u8(x, 0) * s8(y, 0) + u8(x, 1) * s8(y, 1) + u8(x, 2) * s8(y, 2) + u8(x, 3) * s8(y, 3);
    }
  } else {
    for (uint32_t q = 0; q < k / 4; q++) {
      int32_t x = wa[q], y = wb[q];
      acc += s8(x, 0) * s8(y, 0) + s8(x, 1) * s8(y, 1) + s8(x, 2) * s8(y, 2) + s8(x, 3) * s8(y, 3);
    }
  }
  return acc;
}

static void matmul(const struct mm *m, uint32_t hart) {
  const int32_t mult = m->rq[0], shift = m->rq[1], add = m->rq[2];
  for (uint32_t i = hart; i < m->rows; i += SNRT_COMPUTE_CORES) {
    for (uint32_t j = 0; j < m->cols; j++) {
      int32_t acc = dot(&m->x[i * m->inner], &m->wt[j * m->inner], m->inner, m->x_unsigned);
      if (m->bias) acc += (m->bias[j] << 8) >> 8; /* 24-bit bias port */
      acc = (acc << 6) >> 6;                      /* 26-bit accumulator */
      int8_t r = (int8_t)snrt_requant(acc, mult, shift, add);
      if (m->out_transposed) m->out[j * m->rows + i] = r;
      else m->out[i * m->cols + j] = r;
    }
  }
}

static inline uint32_t shr(uint32_t x, int32_t s, int32_t width) { return s >= width ? 0 : x >> s; }

static void itamax_row(const int8_t *x, uint8_t *y, uint32_t cols) {
  int32_t max = -128;
  uint32_t sum = 0;
  for (uint32_t g = 0; g < cols; g += 16) {
    int32_t gmax = -128;
    for (uint32_t i = 0; i < 16; i++)
      if (x[g + i] > gmax) gmax = x[g + i];
    int32_t nmax = max > gmax ? max : gmax;
    uint32_t s = g == 0 ? 0 : shr(sum, nmax - max, 19);
    for (uint32_t i = 0; i < 16; i++) s += shr(256, nmax - x[g + i], 9);
    sum = s & 0x7ffff;
    max = nmax;
  }
  uint32_t inverse = (sum == 0 ? 0xfffff : 65280u / sum) & 0x7ffff;
  for (uint32_t c = 0; c < cols; c++) y[c] = (uint8_t)shr(inverse, max - x[c], 19);
}

int main(uint32_t hart) {
  const uint32_t s = attn_args.s, e = attn_args.e, p = attn_args.p;
  uint32_t t_start = snrt_mcycle();
  if (hart == SNRT_DMA_CORE) {
    snrt_dma_start_1d(q_l1, attn_q, s * e);
    snrt_dma_start_1d(k_l1, attn_k, s * e);
    snrt_dma_start_1d(w_l1[0], attn_wqt, p * e);
    snrt_dma_start_1d(w_l1[1], attn_wkt, p * e);
    snrt_dma_start_1d(w_l1[2], attn_wvt, p * e);
    snrt_dma_start_1d(w_l1[3], attn_wot, e * p);
    snrt_dma_start_1d(bias_l1, attn_bias, 4 * MAXD * 4);
    snrt_dma_wait_all();
  }
  snrt_cluster_barrier();
  int8_t *qp = res_l1[0], *kp = res_l1[1], *vpt = res_l1[2], *a = res_l1[3], *soft = res_l1[4];
  int8_t *o = res_l1[5], *out = res_l1[6];
  const struct mm steps[6] = {
      {q_l1, w_l1[0], &bias_l1[0], qp, s, e, p, attn_args.rq[0], 0, 0},
      {k_l1, w_l1[1], &bias_l1[MAXD], kp, s, e, p, attn_args.rq[1], 0, 0},
      {k_l1, w_l1[2], &bias_l1[2 * MAXD], vpt, s, e, p, attn_args.rq[2], 0, 1},
      {qp, kp, 0, a, s, p, s, attn_args.rq[3], 0, 0},
      {soft, vpt, 0, o, s, s, p, attn_args.rq[4], 1, 0},
      {o, w_l1[3], &bias_l1[3 * MAXD], out, s, p, e, attn_args.rq[5], 0, 0},
  };
  uint32_t t = snrt_mcycle();
  for (int st = 0; st < 6; st++) {
    if (hart < SNRT_COMPUTE_CORES) {
      matmul(&steps[st], hart);
      if (st == 3) {
        snrt_cluster_barrier();
        for (uint32_t r = hart; r < s; r += SNRT_COMPUTE_CORES) itamax_row(&a[r * s], (uint8_t *)&soft[r * s], s);
      }
    } else if (st == 3) {
      snrt_cluster_barrier();
    }
    snrt_cluster_barrier();
    uint32_t now = snrt_mcycle();
    if (hart == 0) attn_args.step_cycles[st] = now - t;
    t = now;
  }
  if (hart == SNRT_DMA_CORE) {
    snrt_dma_start_1d(attn_out, res_l1, 7 * MAXD * MAXD);
    snrt_dma_wait_all();
  }
  snrt_cluster_barrier();
  if (hart == 0) attn_args.total_cycles = snrt_mcycle() - t_start;
  return 0;
}
