/* The tiler's runtime: every hart interprets its own command stream (tiler/program.ts documents
   the word format), which the host placed in DRAM and pointed to from `tiler_args`. Commands:
   cluster barrier, DMA transfers and wait (DMA core), ITA jobs and wait, and compute kernels over
   int8 matrices in the T64 layout (64 x 64 tiles, tile (i, j) of an R x C matrix at byte
   (i * C/64 + j) * 4096, so the 64 bytes of a row inside a tile are contiguous):
     gemm       ITA's linear: 26-bit wrapping accumulation, ITA requantiser, identity / ReLU /
                ITA GELU followed by the activation requantiser; or the exact int32 sum with
                Deeploy's RequantShift per column (a product of two activations)
     itamax     ITA's softmax (ITAMax), int8 rows -> uint8 rows
     add, sum   Deeploy's RequantShift of the sum of 2 (or 1..8) int8 matrices, or a table of it
     layernorm  Deeploy's integer LayerNorm (truncating divisions, floor square root)
     nonorm     iNoNorm with per-column weight and bias (or both premultiplied by mul)
     copy       rows of a matrix
     isoftmax   Deeploy's iSoftmax, int8 rows -> uint8 rows, the exponent from a table
     dgemm      Deeploy's Gemm / MatMul + RequantShift in int32 (what ITA's linear cannot do), also of
                two activations (uint8 A, B as it is)
     conv       Deeploy's 2-D Conv + RequantShift per output channel, output pixels as rows
     pool       MaxPool over pixel rows, written in the order of the transpose that follows it
     transpose  one 64 x 64 tile transposed
     lut        y = table[x] byte by byte (a chain of element-wise ops of one 8-bit input)
     pmax       Deeploy's ITAPartialMax and ITAMax kernels (int8 rows -> uint8 rows)
     colmean    Deeploy's IntegerMean over the rows (a power-of-two count)
     cols       rows and columns of one matrix into another (slice, concat, relayout)
     rmsnorm    Deeploy's integer RMSNorm (truncating divisions, floor square root)
     mul        Deeploy's RequantShift of the element-wise product of two 8-bit matrices
   Streams live in DRAM (one outstanding load per core, about 20 cycles each), so commands are short
   and an ITA job is programmed while the previous one runs. The host reads no results: the model
   observes barriers, busy lines and stalls itself. `tiler_l1` is the L1 the tiler allocates from;
   it fills the TCDM up to the 9 stacks of 1 KiB. */
#include "intmath.h"
#include "ita.h"

#define L1_BYTES (119u * 1024u)
#define TILE 4096u

enum {
  OP_END,
  OP_BARRIER,
  OP_DMA1D,
  OP_DMA2D,
  OP_DMA_WAIT,
  OP_ITA_JOB,
  OP_ITA_WAIT,
  OP_GEMM,
  OP_ITAMAX,
  OP_ADD,
  OP_SUM,
  OP_LAYERNORM,
  OP_NONORM,
  OP_COPY,
  OP_ISOFTMAX,
  OP_DGEMM,
  OP_CONV,
  OP_POOL,
  OP_TRANSPOSE,
  OP_LUT,
  OP_PMAX,
  OP_COLMEAN,
  OP_COLS,
  OP_RMSNORM,
  OP_MUL,
};

typedef struct {
  uint32_t stream[SNRT_COMPUTE_CORES + 1]; /* DRAM address of each hart's command stream */
  uint32_t done;                           /* harts past the end of their stream (host writes 0) */
} tiler_args_t;

tiler_args_t tiler_args;
uint8_t tiler_l1[L1_BYTES] __attribute__((section(".tcdm"), aligned(64)));

/* ------------------------------------------------------------------ helpers */

/* Address of the 64-byte segment of row r in tile column j of a T64 matrix with `ct` tile columns. */
static inline uint8_t *seg(uint32_t base, uint32_t r, uint32_t j, uint32_t ct) {
  return (uint8_t *)(base + ((r >> 6) * ct + j) * TILE + ((r & 63u) << 6));
}

static inline int32_t wrap(int32_t v, uint32_t w) { return (int32_t)((uint32_t)v << (32 - w)) >> (32 - w); }

static inline int32_t sat8(int32_t v) { return v > 127 ? 127 : v < -128 ? -128 : v; }

/* ITA's requantiser: the 35-bit product mult * x, shifted right arithmetically (rounded half up
   while the rounding bit exists, i.e. shift <= 35), plus add, saturated to int8. rq packs
   mult [7:0], shift [15:8], add [23:16]. */
static int32_t ita_rq(int32_t x, uint32_t rq) {
  uint32_t mult = rq & 0xffu, shift = (rq >> 8) & 0xffu;
  int32_t add = (int32_t)(rq << 8) >> 24;
  int64_t p = (int64_t)x * (int32_t)mult;
  if (shift > 0) {
    if (shift <= 35) p = (p + ((int64_t)1 << (shift - 1))) >> shift;
    else p >>= shift > 63 ? 63 : shift;
  }
  return sat8((int32_t)p + add);
}

/* ITA's integer GELU of an int8 value (16-bit constants, 26-bit datapath), before requantisation. */
static int32_t ita_gelu(int32_t x, int32_t b, int32_t c) {
  int32_t neg = x < 0;
  int32_t abs = wrap(neg ? -x : x, 16);
  int32_t limit = wrap(-b, 16);
  int32_t clipped = abs > limit ? limit : abs;
  int32_t poly = wrap(clipped + b, 16);
  int32_t erf = wrap(poly * poly + c, 26);
  if (neg) erf = wrap(-erf, 26);
  int32_t sum = wrap(erf + c, 26);
  return wrap((int32_t)((uint32_t)x * (uint32_t)sum), 26);
}

/* Deeploy's RequantShift to int8: (x * mul + add + 2^(shift-1)) >> shift in int32, clipped. */
static inline int32_t rqs(int32_t x, int32_t mul, int32_t add, uint32_t shift) {
  int32_t v = (int32_t)((uint32_t)x * (uint32_t)mul + (uint32_t)add);
  if (shift > 0) v = (int32_t)((uint32_t)v + (1u << (shift - 1)));
  return sat8(v >> shift);
}

/* ------------------------------------------------------------------ gemm */

typedef struct {
  uint32_t a, bt, c, bias, m, n, nv, k, r0, r1, rq, gelu, act_rq, flags;
} gemm_t;

/* One output value from its 32-bit sum of products: bias, 26-bit wrap, requantiser, activation. */
static inline int8_t gemm_out(const gemm_t *g, int32_t acc, int32_t bias) {
  int32_t v = ita_rq(wrap(acc + bias, 26), g->rq);
  uint32_t act = (g->flags >> 2) & 3u;
  if (act == 1) v = ita_rq(v > 0 ? v : 0, g->act_rq);
  else if (act == 2) v = ita_rq(ita_gelu(v, (int16_t)g->gelu, (int32_t)g->gelu >> 16), g->act_rq);
  return (int8_t)v;
}

#define SB0(x) (((int32_t)(x) << 24) >> 24)
#define SB1(x) (((int32_t)(x) << 16) >> 24)
#define SB2(x) (((int32_t)(x) << 8) >> 24)
#define SB3(x) ((int32_t)(x) >> 24)

/* The cluster's 8 compute cores share one multiplier (one product per cycle), so the sums of
   products use two products per multiplication: with x' = x + ox (ox = 128 for int8 A, 0 for
   uint8 A) and w' = w + 128, all in 0..255, x' * (w'(n0) + w'(n1) * 2^16) holds both products in
   its two 16-bit halves without carries. Per row the core keeps the sum of those words (`all`) and
   of their upper halves (`hi`): sum(x' w'(n1)) = hi, sum(x' w'(n0)) = all - hi * 2^16 (mod 2^32).
   Then sum(x w) = S' - 128 sum(x') - ox sum(w') + 128 ox K, exact modulo 2^32, and the result only
   needs its low 26 bits. R rows (64 bytes apart in a tile) share the prepared weight words. */
#define MASK_B 0x00ff00ffu
#define MASK_L 0x0000ffffu
#define FLIP 0x80808080u

/* Sum of the four bytes of each word of a 64-byte row segment (after xor with xa), per tile. */
static inline uint32_t row_sum(const uint8_t *a, uint32_t kt, uint32_t xa) {
  uint32_t total = 0;
  for (uint32_t t = 0; t < kt; t++, a += TILE) {
    const uint32_t *pa = (const uint32_t *)a;
    uint32_t s = 0;
    for (uint32_t i = 0; i < 16; i++) {
      uint32_t v = pa[i] ^ xa;
      s += (v & MASK_B) + ((v >> 8) & MASK_B);
    }
    total += (s & MASK_L) + (s >> 16);
  }
  return total;
}

typedef struct {
  uint32_t all[4], hi[4], w0, w1;
} sums_t;

/* Packed sums of products of R rows of A (a, rows 64 bytes apart) with two rows of Bt (b, b + 64)
   over kt tiles. */
#define DOT_PAIR(NAME, R, XA)                                                                           \
  static void NAME(const uint8_t *a, const uint8_t *b, uint32_t kt, sums_t *out) {                      \
    uint32_t all0 = 0, hi0 = 0, all1 = 0, hi1 = 0, all2 = 0, hi2 = 0, all3 = 0, hi3 = 0;                \
    uint32_t w0 = 0, w1 = 0;                                                                            \
    const uint32_t mb = MASK_B, ml = MASK_L;                                                            \
    for (uint32_t t = 0; t < kt; t++, a += TILE, b += TILE) {                                           \
      const uint32_t *pa = (const uint32_t *)a, *pb = (const uint32_t *)b, *end = pb + 16;              \
      uint32_t sw0 = 0, sw1 = 0;                                                                        \
      do {                                                                                              \
        uint32_t b0 = pb[0] ^ FLIP, b1 = pb[16] ^ FLIP;                                                 \
        uint32_t e0 = b0 & mb, o0 = (b0 >> 8) & mb, e1 = b1 & mb, o1 = (b1 >> 8) & mb;                  \
        sw0 += e0 + o0;                                                                                 \
        sw1 += e1 + o1;                                                                                 \
        uint32_t p0 = (e0 & ml) | (e1 << 16), p2 = (e0 >> 16) | ((e1 >> 16) << 16);                    \
        uint32_t p1 = (o0 & ml) | (o1 << 16), p3 = (o0 >> 16) | ((o1 >> 16) << 16);                    \
        if (R > 1) {                                                                                    \
          /* the products of one row are in flight while the previous row accumulates */               \
          DOT_MUL(0, XA, u)                                                                             \
          DOT_MUL(16, XA, v)                                                                            \
          DOT_ACC(all0, hi0, u)                                                                         \
          DOT_MUL(32, XA, y)                                                                            \
          DOT_ACC(all1, hi1, v)                                                                         \
          DOT_MUL(48, XA, z)                                                                            \
          DOT_ACC(all2, hi2, y)                                                                         \
          DOT_ACC(all3, hi3, z)                                                                         \
        } else {                                                                                        \
          DOT_MUL(0, XA, u)                                                                             \
          DOT_ACC(all0, hi0, u)                                                                         \
        }                                                                                               \
        pa++;                                                                                           \
        pb++;                                                                                           \
      } while (pb != end);                                                                              \
      w0 += (sw0 & ml) + (sw0 >> 16);                                                                   \
      w1 += (sw1 & ml) + (sw1 >> 16);                                                                   \
    }                                                                                                   \
    out->all[0] = all0, out->hi[0] = hi0, out->all[1] = all1, out->hi[1] = hi1;                         \
    out->all[2] = all2, out->hi[2] = hi2, out->all[3] = all3, out->hi[3] = hi3;                         \
    out->w0 = w0, out->w1 = w1;                                                                         \
  }
#define DOT_MUL(OFF, XA, V)                                                                             \
  uint32_t V##x = pa[OFF] ^ (XA);                                                                       \
  uint32_t V##0 = (V##x & 0xffu) * p0, V##1 = ((V##x >> 8) & 0xffu) * p1;                               \
  uint32_t V##2 = ((V##x >> 16) & 0xffu) * p2, V##3 = (V##x >> 24) * p3;
#define DOT_ACC(ALL, HI, V)                                                                             \
  ALL += V##0 + V##1;                                                                                   \
  HI += (V##0 >> 16) + (V##1 >> 16);                                                                    \
  ALL += V##2 + V##3;                                                                                   \
  HI += (V##2 >> 16) + (V##3 >> 16);

DOT_PAIR(dot_s4, 4, FLIP)
DOT_PAIR(dot_s1, 1, FLIP)
DOT_PAIR(dot_u4, 4, 0u)
DOT_PAIR(dot_u1, 1, 0u)

/* Deeploy's RequantShift of an int32 sum, per column c (gemm flags bit 4): rq and gelu hold the
   addresses of the int32 mul and add vectors, act_rq the shift and (bit 8) an unsigned output. */
static inline int32_t deeploy_out(const gemm_t *g, int32_t acc, uint32_t c) {
  const uint32_t shift = g->act_rq & 0xffu;
  int32_t v = (int32_t)((uint32_t)acc * (uint32_t)((const int32_t *)g->rq)[c] + (uint32_t)((const int32_t *)g->gelu)[c]);
  if (shift > 0) v = (int32_t)((uint32_t)v + (1u << (shift - 1)));
  v >>= shift;
  if (g->act_rq & 0x100u) return v < 0 ? 0 : v > 255 ? 255 : v;
  return sat8(v);
}

static void k_gemm(const gemm_t *g) {
  const uint32_t kt = g->k >> 6, nt = (g->nv + 63) >> 6, deeploy = (g->flags >> 4) & 1u;
  const uint32_t unsig = g->flags & 1u, per_row = (g->flags >> 1) & 1u;
  const uint32_t xa = unsig ? 0u : FLIP, ox = unsig ? 0u : 128u;
  const uint32_t kfix = 128u * ox * g->k;
  const int32_t *bias = (const int32_t *)g->bias;
  uint32_t r = g->r0;
  while (r < g->r1) {
    /* four rows of one tile at a time, else one */
    const uint32_t nr = ((r & 63u) <= 60u && r + 4 <= g->r1) ? 4u : 1u;
    uint32_t xs[4], brow[4];
    for (uint32_t q = 0; q < nr; q++) {
      xs[q] = 128u * row_sum(seg(g->a, r + q, 0, kt), kt, xa);
      brow[q] = bias && per_row ? (uint32_t)wrap(bias[r + q], 24) : 0;
    }
    const uint8_t *arow = seg(g->a, r, 0, kt);
    for (uint32_t jt = 0; jt < nt; jt++) {
      const uint8_t *btile = (const uint8_t *)(g->bt + jt * kt * TILE);
      /* the columns of the tensor itself (in pairs): the rest is padding */
      const uint32_t jn = g->nv - jt * 64 < 64 ? g->nv - jt * 64 : 64;
      for (uint32_t j = 0; j < jn; j += 2) {
        sums_t s;
        if (nr == 4) {
          if (unsig) dot_u4(arow, btile + j * 64, kt, &s);
          else dot_s4(arow, btile + j * 64, kt, &s);
        } else {
          if (unsig) dot_u1(arow, btile + j * 64, kt, &s);
          else dot_s1(arow, btile + j * 64, kt, &s);
        }
        const uint32_t c0 = kfix - ox * s.w0, c1 = kfix - ox * s.w1;
        uint32_t b0 = 0, b1 = 0;
        if (bias && !per_row) {
          b0 = (uint32_t)wrap(bias[jt * 64 + j], 24);
          b1 = (uint32_t)wrap(bias[jt * 64 + j + 1], 24);
        }
        for (uint32_t q = 0; q < nr; q++) {
          int8_t *crow = (int8_t *)seg(g->c, r + q, jt, nt);
          const uint32_t base = brow[q] - xs[q];
          const int32_t acc0 = (int32_t)(s.all[q] - (s.hi[q] << 16) + c0 + base + b0);
          const int32_t acc1 = (int32_t)(s.hi[q] + c1 + base + b1);
          if (deeploy) {
            crow[j] = (int8_t)deeploy_out(g, acc0, jt * 64 + j);
            crow[j + 1] = (int8_t)deeploy_out(g, acc1, jt * 64 + j + 1);
          } else {
            crow[j] = gemm_out(g, acc0, 0);
            crow[j + 1] = gemm_out(g, acc1, 0);
          }
        }
      }
    }
    r += nr;
  }
}

/* ------------------------------------------------------------------ itamax */

static inline uint32_t shr(uint32_t x, int32_t s, int32_t width) { return s >= width ? 0 : x >> s; }

static void k_itamax(uint32_t x, uint32_t y, uint32_t cols, uint32_t r0, uint32_t r1) {
  const uint32_t ct = cols >> 6;
  for (uint32_t r = r0; r < r1; r++) {
    int32_t max = -128;
    uint32_t sum = 0;
    for (uint32_t j = 0; j < ct; j++) {
      const int8_t *in = (const int8_t *)seg(x, r, j, ct);
      for (uint32_t g = 0; g < 64; g += 16) {
        int32_t gmax = -128;
        for (uint32_t i = 0; i < 16; i++)
          if (in[g + i] > gmax) gmax = in[g + i];
        int32_t nmax = max > gmax ? max : gmax;
        uint32_t s = (j == 0 && g == 0) ? 0 : shr(sum, nmax - max, 19);
        for (uint32_t i = 0; i < 16; i++) s += shr(256, nmax - in[g + i], 9);
        sum = s & ((1u << 19) - 1);
        max = nmax;
      }
    }
    uint32_t inverse = sum == 0 ? (1u << 20) - 1 : 65280u / sum;
    inverse &= (1u << 19) - 1;
    for (uint32_t j = 0; j < ct; j++) {
      const int8_t *in = (const int8_t *)seg(x, r, j, ct);
      uint8_t *out = seg(y, r, j, ct);
      for (uint32_t i = 0; i < 64; i++) out[i] = (uint8_t)shr(inverse, max - in[i], 19);
    }
  }
}

/* ------------------------------------------------------------------ element-wise */

/* y = RequantShift(sum of n inputs), rows [r0, r1); rows are contiguous runs of 64 bytes. With a
   table (lut != 0: lut[s + 128 n] = RequantShift(s) for every reachable sum s) the cores look the
   result up instead of multiplying: the 8 cores share one multiplier. */
static void k_sum(const uint32_t *xs, uint32_t n, uint32_t y, uint32_t cols, uint32_t r0, uint32_t r1,
                  int32_t mul, int32_t add, uint32_t shift, uint32_t lut) {
  const uint32_t ct = cols >> 6;
  const uint8_t *t = (const uint8_t *)(lut + 128u * n);
  for (uint32_t r = r0; r < r1; r++) {
    for (uint32_t j = 0; j < ct; j++) {
      const uint32_t off = ((r >> 6) * ct + j) * TILE + ((r & 63u) << 6);
      uint32_t *out = (uint32_t *)(y + off);
      if (lut && n == 2) {
        const uint32_t *a = (const uint32_t *)(xs[0] + off), *b = (const uint32_t *)(xs[1] + off);
        for (uint32_t w = 0; w < 16; w++) {
          uint32_t va = a[w], vb = b[w];
          out[w] = (uint32_t)t[SB0(va) + SB0(vb)] | (uint32_t)t[SB1(va) + SB1(vb)] << 8 |
                   (uint32_t)t[SB2(va) + SB2(vb)] << 16 | (uint32_t)t[SB3(va) + SB3(vb)] << 24;
        }
        continue;
      }
      for (uint32_t w = 0; w < 16; w++) {
        int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (uint32_t i = 0; i < n; i++) {
          uint32_t v = ((const uint32_t *)(xs[i] + off))[w];
          s0 += SB0(v);
          s1 += SB1(v);
          s2 += SB2(v);
          s3 += SB3(v);
        }
        if (lut)
          out[w] = (uint32_t)t[s0] | (uint32_t)t[s1] << 8 | (uint32_t)t[s2] << 16 | (uint32_t)t[s3] << 24;
        else
          out[w] = (uint32_t)(rqs(s0, mul, add, shift) & 0xff) | (uint32_t)(rqs(s1, mul, add, shift) & 0xff) << 8 |
                   (uint32_t)(rqs(s2, mul, add, shift) & 0xff) << 16 | (uint32_t)rqs(s3, mul, add, shift) << 24;
      }
    }
  }
}

static void k_copy(uint32_t x, uint32_t y, uint32_t cols, uint32_t r0, uint32_t r1) {
  const uint32_t ct = cols >> 6;
  for (uint32_t r = r0; r < r1; r++)
    for (uint32_t j = 0; j < ct; j++) {
      const uint32_t *in = (const uint32_t *)seg(x, r, j, ct);
      uint32_t *out = (uint32_t *)seg(y, r, j, ct);
      for (uint32_t w = 0; w < 16; w += 4) {
        uint32_t v0 = in[w], v1 = in[w + 1], v2 = in[w + 2], v3 = in[w + 3];
        out[w] = v0;
        out[w + 1] = v1;
        out[w + 2] = v2;
        out[w + 3] = v3;
      }
    }
}

/* iNoNorm, per column: y = int8(((int16(x * w[c]) + b[c]) * mul) >> log2d). Premultiplied (the
   tiler's choice when no int8 x can wrap x * w[c] in int16): w and b hold w[c] * mul and b[c] * mul
   (mod 2^32) and y = int8((x * w[c] + b[c]) >> log2d), one multiply per element instead of two. */
static void k_nonorm(uint32_t x, uint32_t y, const int32_t *wv, const int32_t *bv, uint32_t cols, uint32_t r0,
                     uint32_t r1, int32_t mul, uint32_t log2d, uint32_t pre) {
  const uint32_t ct = cols >> 6;
  for (uint32_t r = r0; r < r1; r++)
    for (uint32_t j = 0; j < ct; j++) {
      const int32_t *w = wv + 64 * j, *b = bv + 64 * j;
      if (pre) {
        const uint32_t *in = (const uint32_t *)seg(x, r, j, ct);
        uint32_t *out = (uint32_t *)seg(y, r, j, ct);
        for (uint32_t q = 0; q < 16; q++) {
          const int32_t *wq = w + 4 * q, *bq = b + 4 * q;
          uint32_t v = in[q];
          uint32_t y0 = (uint32_t)((int32_t)((uint32_t)SB0(v) * (uint32_t)wq[0] + (uint32_t)bq[0]) >> log2d);
          uint32_t y1 = (uint32_t)((int32_t)((uint32_t)SB1(v) * (uint32_t)wq[1] + (uint32_t)bq[1]) >> log2d);
          uint32_t y2 = (uint32_t)((int32_t)((uint32_t)SB2(v) * (uint32_t)wq[2] + (uint32_t)bq[2]) >> log2d);
          uint32_t y3 = (uint32_t)((int32_t)((uint32_t)SB3(v) * (uint32_t)wq[3] + (uint32_t)bq[3]) >> log2d);
          out[q] = (y0 & 0xffu) | (y1 & 0xffu) << 8 | (y2 & 0xffu) << 16 | y3 << 24;
        }
        continue;
      }
      const int8_t *in = (const int8_t *)seg(x, r, j, ct);
      int8_t *out = (int8_t *)seg(y, r, j, ct);
      for (uint32_t i = 0; i < 64; i++) {
        int32_t v = (int16_t)(in[i] * w[i]) + b[i];
        out[i] = (int8_t)((int32_t)((uint32_t)v * (uint32_t)mul) >> log2d);
      }
    }
}

/* Unsigned division of any 32-bit a by a fixed d >= 2 without the divider (the 8 cores share one
   serial divider): with l = ceil(log2 d) and m = floor(2^32 (2^l - d) / d) + 1, t = mulhu(m, a),
   a / d = (t + ((a - t) >> 1)) >> (l - 1) exactly (division by invariant integers, the variant that
   needs no 33-bit multiplier). `udiv_magic` finds l - 1 and m by long division, once per divisor. */
typedef struct {
  uint32_t m, sh;
} udiv_t;

static udiv_t udiv_magic(uint32_t d) {
  uint32_t l = 1;
  while (l < 32 && (1u << l) < d) l++;
  const uint32_t hi = (l < 32 ? (1u << l) : 0u) - d; /* 2^l - d, below d */
  uint32_t rem = hi, q = 0;
  for (uint32_t i = 0; i < 32; i++) {
    rem <<= 1; /* below 2d: no overflow for d < 2^31 */
    q <<= 1;
    if (rem >= d) {
      rem -= d;
      q |= 1;
    }
  }
  udiv_t u = {q + 1, l - 1};
  return u;
}

/* Truncating signed division n / d for the divisor `u` describes. */
static inline int32_t sdiv_magic(int32_t n, udiv_t u) {
  const uint32_t s = (uint32_t)(n >> 31);
  const uint32_t a = ((uint32_t)n ^ s) - s;
  const uint32_t t = (uint32_t)(((uint64_t)a * u.m) >> 32);
  const uint32_t q = (t + ((a - t) >> 1)) >> u.sh;
  return (int32_t)((q ^ s) - s);
}

/* Deeploy's iRMSNorm over the first nv columns of each row: ms = (sum of x^2) / nv, std =
   isqrt(ms + 1), y = sat8(trunc(x w / std) >> log2d), x w wrapping in 32 bits. The division is a
   multiply by the reciprocal of std (sdiv_magic), exact. */
static void k_rmsnorm(uint32_t x, uint32_t y, const int32_t *w, uint32_t cols, uint32_t nv, uint32_t r0,
                      uint32_t r1, uint32_t log2d) {
  const uint32_t ct = cols >> 6;
  for (uint32_t r = r0; r < r1; r++) {
    int32_t ss = 0;
    for (uint32_t c = 0; c < nv; c++) {
      const int32_t v = (int8_t)seg(x, r, c >> 6, ct)[c & 63u];
      ss += v * v;
    }
    const int32_t std = isqrt(ss / (int32_t)nv + 1);
    const udiv_t u = udiv_magic(std > 1 ? (uint32_t)std : 2u);
    for (uint32_t c = 0; c < nv; c++) {
      const int32_t v = (int8_t)seg(x, r, c >> 6, ct)[c & 63u];
      const int32_t p = (int32_t)((uint32_t)v * (uint32_t)w[c]);
      seg(y, r, c >> 6, ct)[c & 63u] = (uint8_t)sat8((std == 1 ? p : sdiv_magic(p, u)) >> log2d);
    }
  }
}

/* Deeploy's RequantShift of the element-wise product of a and b (int8, or uint8 by flags):
   (a b mul + add + 2^(shift-1)) >> shift in int32, clipped to int8 or (unsigned) uint8. */
static void k_mul(uint32_t a, uint32_t b, uint32_t y, uint32_t cols, uint32_t r0, uint32_t r1, int32_t mul,
                  int32_t add, uint32_t shift, uint32_t flags) {
  const uint32_t ct = cols >> 6;
  for (uint32_t r = r0; r < r1; r++)
    for (uint32_t j = 0; j < ct; j++) {
      const uint8_t *pa = seg(a, r, j, ct), *pb = seg(b, r, j, ct);
      uint8_t *out = seg(y, r, j, ct);
      for (uint32_t i = 0; i < 64; i++) {
        const int32_t va = flags & 1u ? (int32_t)pa[i] : (int32_t)(int8_t)pa[i];
        const int32_t vb = flags & 2u ? (int32_t)pb[i] : (int32_t)(int8_t)pb[i];
        int32_t v = (int32_t)((uint32_t)(va * vb) * (uint32_t)mul + (uint32_t)add);
        if (shift > 0) v = (int32_t)((uint32_t)v + (1u << (shift - 1)));
        v >>= shift;
        out[i] = (uint8_t)(flags & 4u ? (v < 0 ? 0 : v > 255 ? 255 : v) : sat8(v));
      }
    }
}

/* Deeploy's iLayerNorm over each row: mean and variance by truncating division, std =
   isqrt(var + 1), y = int8((trunc((x - mean) * w[c] / std) + b[c]) >> log2d). The division by std
   is a multiply by its reciprocal (`sdiv_magic`), exact. With a table of squares (sq != 0: sq[u] =
   int8(u)^2 for every byte u) the first pass also sums x^2 and the sum of squared deviations is
   sum(x^2) - 2 mean sum(x) + cols mean^2, the same integer, without a second pass of multiplies. */
static void k_layernorm(uint32_t x, uint32_t y, const int32_t *w, const int32_t *b, uint32_t cols, uint32_t r0,
                        uint32_t r1, uint32_t log2d, const uint16_t *sq, uint32_t uns) {
  const uint32_t ct = cols >> 6;
  for (uint32_t r = r0; r < r1; r++) {
    int32_t sum = 0, sum2 = 0;
    for (uint32_t j = 0; j < ct; j++) {
      const uint32_t *in = (const uint32_t *)seg(x, r, j, ct);
      for (uint32_t i = 0; i < 16; i++) {
        uint32_t v = in[i];
        if (uns)
          sum += (int32_t)((v & 0xffu) + ((v >> 8) & 0xffu) + ((v >> 16) & 0xffu) + (v >> 24));
        else
          sum += SB0(v) + SB1(v) + SB2(v) + SB3(v);
        if (sq) sum2 += sq[v & 0xffu] + sq[(v >> 8) & 0xffu] + sq[(v >> 16) & 0xffu] + sq[v >> 24];
      }
    }
    const int32_t mean = sum / (int32_t)cols;
    int32_t ss = 0;
    if (sq)
      ss = sum2 - 2 * mean * sum + (int32_t)cols * mean * mean;
    else
      for (uint32_t j = 0; j < ct; j++) {
        const uint8_t *in = seg(x, r, j, ct);
        for (uint32_t i = 0; i < 64; i++) {
          int32_t d = (uns ? (int32_t)in[i] : (int32_t)(int8_t)in[i]) - mean;
          ss += d * d;
        }
      }
    const int32_t std = isqrt(ss / (int32_t)cols + 1);
    const udiv_t u = udiv_magic(std > 1 ? (uint32_t)std : 2u);
    for (uint32_t j = 0; j < ct; j++) {
      const uint8_t *in = seg(x, r, j, ct);
      int8_t *out = (int8_t *)seg(y, r, j, ct);
#define XV(i) (uns ? (int32_t)in[i] : (int32_t)(int8_t)in[i])
      if (std == 1) {
        /* std 1: no division (the reciprocal needs a divisor of 2 or more) */
        for (uint32_t i = 0; i < 64; i++)
          out[i] = (int8_t)(((XV(i) - mean) * w[64 * j + i] + b[64 * j + i]) >> log2d);
      } else {
        for (uint32_t i = 0; i < 64; i++) {
          int32_t d = XV(i) - mean;
          out[i] = (int8_t)((sdiv_magic(d * w[64 * j + i], u) + b[64 * j + i]) >> log2d);
        }
      }
#undef XV
    }
  }
}

/* Residual add of two 8-bit matrices of which one or both hold unsigned bytes (flags bit 0: a,
   bit 1: b): y = lut[a + b + 128 * (number of signed inputs)], the table of the requantisation of
   every reachable sum (511 bytes). */
static void k_add_mixed(uint32_t a, uint32_t b, uint32_t y, uint32_t cols, uint32_t r0, uint32_t r1, uint32_t lut,
                        uint32_t flags) {
  const uint32_t ct = cols >> 6;
  const uint32_t ua = flags & 1u, ub = (flags >> 1) & 1u;
  const uint8_t *t = (const uint8_t *)(lut + 128u * (2u - ua - ub));
  for (uint32_t r = r0; r < r1; r++)
    for (uint32_t j = 0; j < ct; j++) {
      const uint8_t *pa = seg(a, r, j, ct), *pb = seg(b, r, j, ct);
      uint8_t *out = seg(y, r, j, ct);
      for (uint32_t i = 0; i < 64; i++) {
        int32_t va = ua ? (int32_t)pa[i] : (int32_t)(int8_t)pa[i];
        int32_t vb = ub ? (int32_t)pb[i] : (int32_t)(int8_t)pb[i];
        out[i] = t[va + vb];
      }
    }
}

/* y = lut[x] for every byte of rows [r0, r1): a chain of element-wise ops of one 8-bit input (a
   RequantShift, iGELU + RequantShift, ...), its 256 results computed by the tiler. */
static void k_lut(uint32_t x, uint32_t y, uint32_t cols, uint32_t r0, uint32_t r1, const uint8_t *lut) {
  const uint32_t ct = cols >> 6;
  for (uint32_t r = r0; r < r1; r++)
    for (uint32_t j = 0; j < ct; j++) {
      const uint32_t *in = (const uint32_t *)seg(x, r, j, ct);
      uint32_t *out = (uint32_t *)seg(y, r, j, ct);
      for (uint32_t w = 0; w < 16; w++) {
        uint32_t v = in[w];
        out[w] = (uint32_t)lut[v & 0xffu] | (uint32_t)lut[(v >> 8) & 0xffu] << 8 |
                 (uint32_t)lut[(v >> 16) & 0xffu] << 16 | (uint32_t)lut[v >> 24] << 24;
      }
    }
}

/* One 64 x 64 tile transposed: row r of y (one tile wide) is column r of the tile x. */
static void k_transpose(uint32_t x, uint32_t y, uint32_t r0, uint32_t r1) {
  const uint8_t *in = (const uint8_t *)x;
  for (uint32_t r = r0; r < r1; r++) {
    uint8_t *out = (uint8_t *)(y + (r << 6));
    for (uint32_t c = 0; c < 64; c++) out[c] = in[(c << 6) + r];
  }
}

/* For i < count, row yr + i of y (yt column tiles) cleared when `zero`, then its columns
   [yc, yc + n) set to columns [xc, xc + n) of row xr + i of x (xt column tiles): a slice, a
   concat or a relayout, block by block, the padding of y zeros (a product may sum over it).
   Words when every offset is a multiple of 4, else bytes. */
static void k_cols(uint32_t x, uint32_t y, uint32_t xt, uint32_t yt, uint32_t xc, uint32_t yc, uint32_t n,
                   uint32_t xr, uint32_t yr, uint32_t count, uint32_t zero) {
  const uint32_t words = ((xc | yc | n) & 3u) == 0;
  for (uint32_t i = 0; i < count; i++) {
    const uint32_t r = yr + i, rx = xr + i;
    if (zero)
      for (uint32_t j = 0; j < yt; j++) {
        uint32_t *out = (uint32_t *)seg(y, r, j, yt);
        for (uint32_t w = 0; w < 16; w++) out[w] = 0;
      }
    for (uint32_t c = 0; c < n;) {
      const uint32_t xi = xc + c, yi = yc + c;
      /* the run up to the next tile edge of x or y */
      uint32_t run = 64u - (xi & 63u);
      if (64u - (yi & 63u) < run) run = 64u - (yi & 63u);
      if (n - c < run) run = n - c;
      const uint8_t *in = seg(x, rx, xi >> 6, xt) + (xi & 63u);
      uint8_t *out = seg(y, r, yi >> 6, yt) + (yi & 63u);
      if (words)
        for (uint32_t w = 0; w < run; w += 4) *(uint32_t *)(out + w) = *(const uint32_t *)(in + w);
      else
        for (uint32_t i = 0; i < run; i++) out[i] = in[i];
      c += run;
    }
  }
}

/* Deeploy's ITAPartialMax over the first nv columns of each row (groups of `group` columns):
   running maximum and sum of 256 >> ((max - x + 16) >> 5) (the sum shifted right when the maximum
   grows), inverse = num / sum (32512; ITAMax: 65280 with one group), y = inverse >> ((max - x + 16) >>
   5), its low byte. */
static void k_pmax(uint32_t x, uint32_t y, uint32_t cols, uint32_t r0, uint32_t r1, uint32_t group, uint32_t num) {
  const uint32_t ct = (cols & 0xffffu) >> 6, nv = cols >> 16;
#define AT(p, c) (p)[((c) >> 6) * TILE + ((c) & 63u)]
  for (uint32_t r = r0; r < r1; r++) {
    const int8_t *in = (const int8_t *)seg(x, r, 0, ct);
    uint8_t *out = seg(y, r, 0, ct);
    int32_t max = -128;
    uint32_t acc = 0;
    for (uint32_t g = 0; g < nv; g += group) {
      int32_t cmax = -128;
      for (uint32_t k = 0; k < group; k++)
        if (AT(in, g + k) > cmax) cmax = AT(in, g + k);
      uint32_t sh = 0;
      if (cmax > max) {
        sh = (uint32_t)(cmax - max + 16) >> 5;
        max = cmax;
      }
      uint32_t sum = 0;
      for (uint32_t k = 0; k < group; k++) sum += 256u >> ((uint32_t)(max - AT(in, g + k) + 16) >> 5);
      acc = (acc >> sh) + sum;
    }
    const uint32_t inverse = num / acc;
    for (uint32_t c = 0; c < nv; c++) AT(out, c) = (uint8_t)(inverse >> ((uint32_t)(max - AT(in, c) + 16) >> 5));
  }
#undef AT
}

/* Deeploy's IntegerMean over the first `rows` rows of a one-block matrix, columns [c0, c1):
   (sum + 2^(log2n - 1)) >> log2n, rows = 2^log2n; the result in row 0 of y. */
static void k_colmean(uint32_t x, uint32_t y, uint32_t cols, uint32_t c0, uint32_t c1, uint32_t rows, uint32_t log2n,
                      uint32_t uns) {
  const uint32_t ct = cols >> 6;
  for (uint32_t c = c0; c < c1; c++) {
    int32_t sum = 0;
    for (uint32_t r = 0; r < rows; r++) {
      uint8_t v = seg(x, r, c >> 6, ct)[c & 63u];
      sum += uns ? (int32_t)v : (int32_t)(int8_t)v;
    }
    if (log2n > 0) sum = (sum + (1 << (log2n - 1))) >> log2n;
    seg(y, 0, c >> 6, ct)[c & 63u] = (uint8_t)sum;
  }
}

/* Byte of element (row, col) of a matrix held as 64-row blocks, block i at xs[i], `ct` tiles wide. */
static inline uint8_t *blk_at(const uint32_t *xs, uint32_t ct, uint32_t row, uint32_t col) {
  return (uint8_t *)(xs[row >> 6] + (col >> 6) * TILE + ((row & 63u) << 6) + (col & 63u));
}

/* Conv geometry (int32 words): C, H, W, Wo, kh, kw, sh, sw, pt, pl, F (even), shift, unsigned, x
   tiles wide, y tiles wide, K = C kh kw (the packed weight words per channel pair), output pixels. */
enum { G_C, G_H, G_W, G_WO, G_KH, G_KW, G_SH, G_SW, G_PT, G_PL, G_F, G_SHIFT, G_UNS, G_XCT, G_YCT, G_KS, G_NPIX };

/* Deeploy's 2-D Conv (group 1, NCHW input as a (C H) x W matrix) + RequantShift per output channel,
   one output pixel per row of y (row p0 + r is pixel oh * Wo + ow), one channel per column: acc =
   bias[f] + sum over the window (zero padding) of x w (int32, wrapping), y = clip((acc mul[f] +
   add[f] + 2^(shift-1)) >> shift). The 8 cores share one multiplier, so each multiply computes
   two products, as the gemm does: the K taps of a pixel (a padding tap is x = 0) as x' = x + 128,
   wp[f/2][t] = (w[f][t] + 128) | (w[f+1][t] + 128) << 16; x' wp holds both products in its
   halves without carries, the sum of the upper halves is sum x' w'(f+1) and the sum of the words
   minus it times 2^16 is sum x' w'(f). Then sum x w = sum x' w' - 128 sum x' - 128 sum w' +
   16384 K, where bias[] already holds bias[f] - 128 sum w'(f) + 16384 K (the tiler computes it). */
static void k_conv(const int32_t *g, const uint32_t *xs, uint32_t y, const uint32_t *wp, const int32_t *mul,
                   const int32_t *add, const int32_t *bias, uint32_t p0, uint32_t r0, uint32_t r1) {
  /* four pixels at a time: tap t of pixel e is byte e of xb[t], so one weight word serves four
     multiplies */
  uint32_t xb[64];
  const int32_t lo = g[G_UNS] ? 0 : -128, hi = g[G_UNS] ? 255 : 127;
  const uint32_t shift = (uint32_t)g[G_SHIFT], K = (uint32_t)g[G_KS], F = (uint32_t)g[G_F];
  const uint32_t xct = (uint32_t)g[G_XCT], yct = (uint32_t)g[G_YCT], npix = (uint32_t)g[G_NPIX];
  for (uint32_t r = r0; r < r1 && p0 + r < npix; r += 4) {
    uint32_t n = r1 - r < 4 ? r1 - r : 4;
    if (p0 + r + n > npix) n = npix - p0 - r;
    uint32_t xfix[4] = {0, 0, 0, 0};
    for (uint32_t t = 0; t < K; t++) xb[t] = 0x80808080u;
    for (uint32_t e = 0; e < n; e++) {
      const int32_t p = (int32_t)(p0 + r + e);
      const int32_t oh = p / g[G_WO], ow = p - oh * g[G_WO];
      uint32_t t = 0, xsum = 0;
      for (int32_t c = 0; c < g[G_C]; c++)
        for (int32_t a = 0, ih = oh * g[G_SH] - g[G_PT], row = c * g[G_H] + ih; a < g[G_KH]; a++, ih++, row++)
          for (int32_t b = 0, iw = ow * g[G_SW] - g[G_PL]; b < g[G_KW]; b++, iw++, t++) {
            uint32_t v = 128;
            if (ih >= 0 && ih < g[G_H] && iw >= 0 && iw < g[G_W]) {
              v = (uint32_t)((int32_t)(int8_t)*blk_at(xs, xct, (uint32_t)row, (uint32_t)iw) + 128);
              xb[t] = (xb[t] & ~(0xffu << (8 * e))) | v << (8 * e);
            }
            xsum += v;
          }
      xfix[e] = 128u * xsum;
    }
    const uint32_t *w = wp;
    for (uint32_t f = 0; f < F; f += 2, w += K) {
      uint32_t all0 = 0, up0 = 0, all1 = 0, up1 = 0, all2 = 0, up2 = 0, all3 = 0, up3 = 0;
      for (uint32_t t = 0; t < K; t++) {
        const uint32_t xw = xb[t], ww = w[t];
        const uint32_t q0 = (xw & 0xffu) * ww, q1 = ((xw >> 8) & 0xffu) * ww;
        const uint32_t q2 = ((xw >> 16) & 0xffu) * ww, q3 = (xw >> 24) * ww;
        all0 += q0;
        up0 += q0 >> 16;
        all1 += q1;
        up1 += q1 >> 16;
        all2 += q2;
        up2 += q2 >> 16;
        all3 += q3;
        up3 += q3 >> 16;
      }
      const uint32_t all[4] = {all0, all1, all2, all3}, up[4] = {up0, up1, up2, up3};
      for (uint32_t e = 0; e < n; e++) {
        uint8_t *out = seg(y, r + e, 0, yct);
        const int32_t acc[2] = {(int32_t)(all[e] - (up[e] << 16) - xfix[e] + (uint32_t)bias[f]),
                                (int32_t)(up[e] - xfix[e] + (uint32_t)bias[f + 1])};
        for (uint32_t d = 0; d < 2; d++) {
          const uint32_t ff = f + d;
          int32_t v = (int32_t)((uint32_t)acc[d] * (uint32_t)mul[ff] + (uint32_t)add[ff]);
          if (shift > 0) v = (int32_t)((uint32_t)v + (1u << (shift - 1)));
          v >>= shift;
          v = v < lo ? lo : v > hi ? hi : v;
          out[(ff >> 6) * TILE + (ff & 63u)] = (uint8_t)v;
        }
      }
    }
  }
}

/* Pool geometry (int32 words): H, W, Ho, Wo, kh, kw, sh, sw, pt, pl, order, unsigned, x tiles wide,
   output pixels. */
enum { Q_H, Q_W, Q_HO, Q_WO, Q_KH, Q_KW, Q_SH, Q_SW, Q_PT, Q_PL, Q_ORDER, Q_UNS, Q_CT, Q_NPIX };

/* MaxPool over an image held one pixel per row (row ih * W + iw, one channel per column), written
   one output pixel per row: row q0 + r is pixel oh * Wo + ow (order 0) or ow * Ho + oh (order 1,
   the layout after a transpose to N W H C). Padding never wins: the first tap inside the image
   initialises the output row, every other one keeps the larger value. */
static void k_pool(const int32_t *g, const uint32_t *xs, uint32_t y, uint32_t q0, uint32_t r0, uint32_t r1) {
  const uint32_t ct = (uint32_t)g[Q_CT], uns = (uint32_t)g[Q_UNS];
  for (uint32_t r = r0; r < r1; r++) {
    const int32_t q = (int32_t)(q0 + r);
    if (q >= g[Q_NPIX]) break;
    int32_t oh, ow;
    if (g[Q_ORDER]) {
      ow = q / g[Q_HO];
      oh = q - ow * g[Q_HO];
    } else {
      oh = q / g[Q_WO];
      ow = q - oh * g[Q_WO];
    }
    uint32_t first = 1;
    for (int32_t a = 0, ih = oh * g[Q_SH] - g[Q_PT]; a < g[Q_KH]; a++, ih++) {
      if (ih < 0 || ih >= g[Q_H]) continue;
      const int32_t row0 = ih * g[Q_W];
      for (int32_t b = 0, iw = ow * g[Q_SW] - g[Q_PL]; b < g[Q_KW]; b++, iw++) {
        if (iw < 0 || iw >= g[Q_W]) continue;
        for (uint32_t j = 0; j < ct; j++) {
          const uint8_t *in = blk_at(xs, ct, (uint32_t)(row0 + iw), 64 * j);
          uint8_t *out = seg(y, r, j, ct);
          if (first)
            for (uint32_t c = 0; c < 64; c++) out[c] = in[c];
          else if (uns)
            for (uint32_t c = 0; c < 64; c++) out[c] = in[c] > out[c] ? in[c] : out[c];
          else
            for (uint32_t c = 0; c < 64; c++)
              out[c] = (int8_t)in[c] > (int8_t)out[c] ? in[c] : out[c];
        }
        first = 0;
      }
    }
  }
}

/* ------------------------------------------------------------------ ITA */

/* The waits are functions of their own: the host counts a core whose pc lies in one as waiting,
   not working. */
__attribute__((noinline)) void tiler_wait_ita(void) { ita_wait_idle(); }
__attribute__((noinline)) void tiler_wait_dma(void) { snrt_dma_wait_all(); }
__attribute__((noinline)) void tiler_wait_done(void) {
  while (__atomic_load_n(&tiler_args.done, __ATOMIC_RELAXED) != SNRT_COMPUTE_CORES + 1) {
  }
}

/* Waits until the HWPE is idle. A read of its configuration port first: accesses reach the port
   in order, so a trigger sent just before has been seen and busy has risen. */
static inline void ita_idle(void) {
  (void)ita_read(ITA_RUNNING_JOB);
  tiler_wait_ita();
}

/* ------------------------------------------------------------------ interpreter */

/* The order job registers are written in (tiler/program.ts emits the values in it): stream and
   engine control, then what the engine reads while it runs (tile counts, requantisation, GELU and
   activation constants), then the pointers. Once the running job is done the HWPE's running
   context is the one being programmed: the engine finishes the previous job (its last inner-tile
   step after an output-disabled job) with these values, so they go first. */
#define ITA_JOB_ORDER(X)                                                                                \
  X(ITA_REG_CTRL_STREAM)                                                                                \
  X(ITA_REG_CTRL_ENGINE)                                                                                \
  X(ITA_REG_TILES)                                                                                      \
  X(ITA_REG_EPS_MULT0)                                                                                  \
  X(ITA_REG_EPS_MULT1)                                                                                  \
  X(ITA_REG_RIGHT_SHIFT0)                                                                               \
  X(ITA_REG_RIGHT_SHIFT1)                                                                               \
  X(ITA_REG_ADD0)                                                                                       \
  X(ITA_REG_ADD1)                                                                                       \
  X(ITA_REG_GELU_B_C)                                                                                   \
  X(ITA_REG_ACTIVATION_REQUANT)                                                                         \
  X(ITA_REG_SEQ_LENGTH)                                                                                 \
  X(ITA_REG_INPUT_PTR)                                                                                  \
  X(ITA_REG_WEIGHT_PTR0)                                                                                \
  X(ITA_REG_WEIGHT_PTR1)                                                                                \
  X(ITA_REG_BIAS_PTR)                                                                                   \
  X(ITA_REG_OUTPUT_PTR)

/* Defined after main and kept out of line: the kernels above keep their addresses (main itself
   changes with each new command). */
__attribute__((noinline)) static void k_isoftmax(uint32_t x, uint32_t y, uint32_t cols, uint32_t r0,
                                                uint32_t r1, const uint32_t *lut, uint32_t scale);
__attribute__((noinline)) static void k_dgemm(const uint32_t *p);

int main(uint32_t hart) {
  const uint32_t *p = (const uint32_t *)tiler_args.stream[hart];
  uint32_t used_ita = 0;
  for (;;) {
    const uint32_t h = p[0];
    switch (h & 0xffu) {
    case OP_BARRIER:
      snrt_cluster_barrier();
      p += 1;
      break;
    case OP_DMA1D: {
      uint32_t dst = p[1], src = p[2], bytes = p[3];
      snrt_dma_start_1d((void *)dst, (const void *)src, bytes);
      p += 4;
      break;
    }
    case OP_DMA2D: {
      uint32_t dst = p[1], src = p[2], bytes = p[3], ds = p[4], ss = p[5], reps = p[6];
      snrt_dma_start_2d((void *)dst, (const void *)src, bytes, ds, ss, reps);
      p += 7;
      break;
    }
    case OP_DMA_WAIT:
      tiler_wait_dma();
      p += 1;
      break;
    case OP_ITA_JOB: {
      const uint32_t mask = h >> 8;
      const uint32_t *w = p + 1;
      ita_acquire();
      if (h >> 31) {
        /* 16-bit values, two per word (pointers in units of 4 bytes) */
        uint32_t cur = 0, half = 0;
#define NEXT() (half ^= 1, half ? (cur = *w++) & 0xffffu : cur >> 16)
#define REG(k)                                                                                          \
  if (mask & (1u << (k))) ita_reg((k), (k) <= ITA_REG_OUTPUT_PTR ? NEXT() << 2 : NEXT());
        ITA_JOB_ORDER(REG)
#undef REG
#undef NEXT
      } else {
#define REG(k)                                                                                          \
  if (mask & (1u << (k))) ita_reg((k), *w++);
        ITA_JOB_ORDER(REG)
#undef REG
      }
      /* the acquire above followed any earlier trigger on the port: busy is current */
      tiler_wait_ita();
      ita_trigger();
      used_ita = 1;
      p = w;
      break;
    }
    case OP_ITA_WAIT:
      ita_idle();
      p += 1;
      break;
    case OP_GEMM: {
      gemm_t g;
      g.flags = h >> 8;
      g.a = p[1];
      g.bt = p[2];
      g.c = p[3];
      g.bias = p[4];
      g.m = p[5];
      g.n = p[6] & 0xffffu;
      g.nv = p[6] >> 16 ? p[6] >> 16 : g.n;
      g.k = p[7];
      g.r0 = p[8] & 0xffffu;
      g.r1 = p[8] >> 16;
      g.rq = p[9];
      g.gelu = p[10];
      g.act_rq = p[11];
      k_gemm(&g);
      p += 12;
      break;
    }
    case OP_ITAMAX:
      k_itamax(p[1], p[2], p[3], p[4] & 0xffffu, p[4] >> 16);
      p += 5;
      break;
    case OP_ADD: {
      uint32_t xs[2] = {p[1], p[2]};
      if ((h >> 8) & 3u)
        k_add_mixed(p[1], p[2], p[3], p[4], p[5] & 0xffffu, p[5] >> 16, p[9], (h >> 8) & 3u);
      else
        k_sum(xs, 2, p[3], p[4], p[5] & 0xffffu, p[5] >> 16, (int32_t)p[6], (int32_t)p[7], p[8], p[9]);
      p += 10;
      break;
    }
    case OP_SUM: {
      uint32_t n = h >> 8;
      uint32_t xs[8];
      for (uint32_t i = 0; i < n; i++) xs[i] = p[8 + i];
      k_sum(xs, n, p[1], p[2], p[3] & 0xffffu, p[3] >> 16, (int32_t)p[4], (int32_t)p[5], p[6], p[7]);
      p += 8 + n;
      break;
    }
    case OP_LAYERNORM:
      k_layernorm(p[1], p[2], (const int32_t *)p[3], (const int32_t *)p[4], p[5], p[6] & 0xffffu, p[6] >> 16,
                  p[7], (const uint16_t *)p[8], (h >> 8) & 1u);
      p += 9;
      break;
    case OP_NONORM:
      k_nonorm(p[1], p[2], (const int32_t *)p[3], (const int32_t *)p[4], p[5], p[6] & 0xffffu, p[6] >> 16,
               (int32_t)p[7], p[8], (h >> 8) & 1u);
      p += 9;
      break;
    case OP_COPY:
      k_copy(p[1], p[2], p[3], p[4] & 0xffffu, p[4] >> 16);
      p += 5;
      break;
    case OP_ISOFTMAX:
      k_isoftmax(p[1], p[2], p[3], p[4] & 0xffffu, p[4] >> 16, (const uint32_t *)p[5], p[6]);
      p += 7;
      break;
    case OP_DGEMM:
      k_dgemm(p);
      p += 12;
      break;
    case OP_CONV: {
      const uint32_t nb = h >> 8;
      k_conv((const int32_t *)p[1], p + 9, p[2], (const uint32_t *)p[3], (const int32_t *)p[4],
             (const int32_t *)p[5], (const int32_t *)p[6], p[8], p[7] & 0xffffu, p[7] >> 16);
      p += 9 + nb;
      break;
    }
    case OP_POOL: {
      const uint32_t nb = h >> 8;
      k_pool((const int32_t *)p[1], p + 5, p[2], p[4], p[3] & 0xffffu, p[3] >> 16);
      p += 5 + nb;
      break;
    }
    case OP_TRANSPOSE:
      k_transpose(p[1], p[2], p[3] & 0xffffu, p[3] >> 16);
      p += 4;
      break;
    case OP_LUT:
      k_lut(p[1], p[2], p[3], p[4] & 0xffffu, p[4] >> 16, (const uint8_t *)p[5]);
      p += 6;
      break;
    case OP_PMAX:
      k_pmax(p[1], p[2], p[3], p[4] & 0xffffu, p[4] >> 16, p[5] & 0xffffu, p[5] >> 16);
      p += 6;
      break;
    case OP_COLS:
      k_cols(p[1], p[2], p[3] & 0xffffu, p[3] >> 16, p[4] & 0xffffu, p[4] >> 16, p[5], p[6] & 0xffffu, p[6] >> 16,
             p[7], (h >> 8) & 1u);
      p += 8;
      break;
    case OP_RMSNORM:
      k_rmsnorm(p[1], p[2], (const int32_t *)p[3], p[4] & 0xffffu, p[4] >> 16, p[5] & 0xffffu, p[5] >> 16, p[6]);
      p += 7;
      break;
    case OP_MUL:
      k_mul(p[1], p[2], p[3], p[4], p[5] & 0xffffu, p[5] >> 16, (int32_t)p[6], (int32_t)p[7], p[8], h >> 8);
      p += 9;
      break;
    case OP_COLMEAN:
      k_colmean(p[1], p[2], p[3], p[4] & 0xffffu, p[4] >> 16, p[5] & 0xffffu, (p[5] >> 16) & 0xffu, (h >> 8) & 1u);
      p += 6;
      break;
    default: /* OP_END */
      if (hart == SNRT_DMA_CORE) tiler_wait_dma();
      if (used_ita) ita_idle();
      /* not the hardware barrier: a stream short of barriers must hang in its step, not here */
      __atomic_fetch_add(&tiler_args.done, 1u, __ATOMIC_RELAXED);
      if (hart == 0) tiler_wait_done();
      return 0;
    }
  }
}

/* ------------------------------------------------------------------ isoftmax */

/* Unsigned a / d for the divisor `u` describes (udiv_magic(d), d >= 2). */
static inline uint32_t udiv_apply(uint32_t a, udiv_t u) {
  const uint32_t t = (uint32_t)(((uint64_t)a * u.m) >> 32);
  return (t + ((a - t) >> 1)) >> u.sh;
}

/* Deeploy's iSoftmax over each row: max, e = lut[max - x] (I-BERT's polynomial exponent of every
   difference 0..255, which the tiler computes from the op's coefficients: the 8 cores share one
   multiplier and the polynomial takes two multiplies and a division per element), sum of e
   (wrapping 32 bits), y = (uint32)(e * scale) / sum, stored as its low byte. The division by the
   row's sum is a multiply by its reciprocal (exact for sums below 2^31, which the tiler checks).
   `cols` holds the stored columns in its low half and, when not 0, the row's own columns in its
   high half: the softmax is over those only (the rest is padding, neither read nor written). */
__attribute__((noinline)) static void k_isoftmax(uint32_t x, uint32_t y, uint32_t cols, uint32_t r0,
                                                uint32_t r1, const uint32_t *lut, uint32_t scale) {
  const uint32_t ct = (cols & 0xffffu) >> 6, nv = cols >> 16 ? cols >> 16 : cols & 0xffffu;
  const uint32_t vt = (nv + 63) >> 6;
#define TILE_COLS(j) ((j) + 1 < vt ? 64u : nv - 64u * (j))
  for (uint32_t r = r0; r < r1; r++) {
    int32_t max = -128;
    for (uint32_t j = 0; j < vt; j++) {
      const int8_t *in = (const int8_t *)seg(x, r, j, ct);
      for (uint32_t i = 0; i < TILE_COLS(j); i++)
        if (in[i] > max) max = in[i];
    }
    uint32_t sum = 0;
    for (uint32_t j = 0; j < vt; j++) {
      const int8_t *in = (const int8_t *)seg(x, r, j, ct);
      for (uint32_t i = 0; i < TILE_COLS(j); i++) sum += lut[max - in[i]];
    }
    const udiv_t u = udiv_magic(sum < 2 ? 2 : sum);
    for (uint32_t j = 0; j < vt; j++) {
      const int8_t *in = (const int8_t *)seg(x, r, j, ct);
      uint8_t *out = seg(y, r, j, ct);
      for (uint32_t i = 0; i < TILE_COLS(j); i++) {
        const uint32_t a = lut[max - in[i]] * scale;
        out[i] = (uint8_t)(sum < 2 ? a : udiv_apply(a, u));
      }
    }
  }
#undef TILE_COLS
}

/* ------------------------------------------------------------------ dgemm */

/* Deeploy's Gemm / MatMul (+ bias) + RequantShift as its C kernels compute it, for the linears
   ITA's 26-bit accumulator and 8-bit requantiser cannot reproduce: acc = alpha * (a . bt_c) + bias
   (int32, wrapping), y = clip((acc * mul + add + 2^(shift-1)) >> shift) to int8, or to 0..255
   stored as its byte (flags bit 0). The bias is one int32 per element of the 64-row block (bias
   row-major, n per row) or none (0); mul and add are int32 vectors, one value per row of the
   block (flags bit 1) or per column. Only the first nv of the n columns are computed (the others
   are padding nobody reads). With flags bit 2 the int32 acc is written instead (y then holds
   int32[64][n] like the bias): the sum over K in chunks, each chunk's acc the next one's bias
   (alpha distributes over the wrapping sum). Flags bit 3: A holds unsigned bytes; bit 4: bt is B as
   it is (k x n, T64, one block of k rows per 64 of k; a product of two activations). One multiply
   per multiply-accumulate: exact, not fast.
   Words: header (flags in x), a, bt, y, bias, mul, add, n | nv << 16, k, r0 | r1 << 16, alpha,
   shift. */
__attribute__((noinline)) static void k_dgemm(const uint32_t *p) {
  const uint32_t flags = p[0] >> 8, a = p[1], bt = p[2], y = p[3];
  const int32_t *bias = (const int32_t *)p[4], *mul = (const int32_t *)p[5], *add = (const int32_t *)p[6];
  const uint32_t n = p[7] & 0xffffu, nv = p[7] >> 16, kt = p[8] >> 6, r0 = p[9] & 0xffffu, r1 = p[9] >> 16;
  const uint32_t shift = p[11];
  const int32_t alpha = (int32_t)p[10];
  const uint32_t nt = n >> 6, per_row = (flags >> 1) & 1u, a_uns = (flags >> 3) & 1u, b_direct = (flags >> 4) & 1u;
  const int32_t lo = flags & 1u ? 0 : -128, hi = flags & 1u ? 255 : 127;
  for (uint32_t r = r0; r < r1; r++) {
    for (uint32_t c = 0; c < nv; c++) {
      int32_t dot = 0;
      for (uint32_t j = 0; j < kt; j++) {
        const uint8_t *ar = seg(a, r, j, kt);
        if (!a_uns && !b_direct) {
          const int8_t *as = (const int8_t *)ar, *br = (const int8_t *)seg(bt, c, j, kt);
          for (uint32_t i = 0; i < 64; i++) dot += as[i] * br[i];
        } else if (b_direct) {
          /* B as it is (k x n): column c, 64 rows of block j */
          const uint8_t *bc = (const uint8_t *)(bt + (j * nt + (c >> 6)) * TILE + (c & 63u));
          for (uint32_t i = 0; i < 64; i++)
            dot += (a_uns ? (int32_t)ar[i] : (int32_t)(int8_t)ar[i]) * (int8_t)bc[i << 6];
        } else {
          const int8_t *br = (const int8_t *)seg(bt, c, j, kt);
          for (uint32_t i = 0; i < 64; i++) dot += (a_uns ? (int32_t)ar[i] : (int32_t)(int8_t)ar[i]) * br[i];
        }
      }
      uint32_t acc = (uint32_t)alpha * (uint32_t)dot + (bias ? (uint32_t)bias[r * n + c] : 0u);
      if (flags & 4u) {
        ((int32_t *)y)[r * n + c] = (int32_t)acc;
        continue;
      }
      const uint32_t q = per_row ? r : c;
      int32_t v = (int32_t)(acc * (uint32_t)mul[q] + (uint32_t)add[q]);
      if (shift > 0) v = (int32_t)((uint32_t)v + (1u << (shift - 1)));
      v >>= shift;
      v = v < lo ? lo : v > hi ? hi : v;
      ((uint8_t *)seg(y, r, c >> 6, nt))[c & 63u] = (uint8_t)v;
    }
  }
}
