/* Multi-head attention and feed-forward on ITA, with every operand in L2 (DRAM). The host places
   PyITA's `hwpe/mem.txt` image in `ita_l2` (inputs, weights and biases at the offsets of the HWPE
   testbench) and finds every output written back there. Four cores share the work:
     hart 2  walks the job sequence (a ring of 16 jobs in L1),
     hart 1  places each job's operands in L1 and computes its register values (a ring of 8 plans),
     hart 8  (the DMA core) moves 64 x 64 tiles between L2 and L1 and writes outputs back,
     hart 0  drives the HWPE through the driver in runtime/ita.h.
   Harts 3..7 have nothing to do: the folders' expected images are the per-head outputs (no head
   sum), all of which ITA computes.

   Jobs. Steps per head: Q, K, V projections, then per row group of 64 QK^T (with ITAMax) and
   AV, then the output projection OW; after the heads the feed-forward F1 (with activation) and
   F2. Each job computes one 64 x 64 output tile or one inner tile of it (ITA keeps the partial
   sums; only the last inner tile writes the output). There is no job table: the sequence is
   produced a few jobs ahead of the HWPE, so the first trigger comes after one DMA step.

   L1 buffers. Job k uses slot k % 4: an input tile, a weight tile, a bias row and an output
   tile. ITA reads the weights of job k + 1 while it computes job k (next-weight pointer), so the
   DMA core loads them into slot k + 1 before job k starts. An operand that is the output of one
   of the last three jobs (A = softmax(QK^T) feeding AV, K feeding QK, F1 feeding F2, ...) is
   read from that job's output slot in L1, not reloaded from L2; older outputs come from L2,
   after their write-back.

   Synchronisation through words in L1 (`ita_sync`), each written by one core: `iterated`,
   `iter_end` (hart 2), `planned` (hart 1), `ready` (hart 8: jobs whose operands are in L1),
   `done` (hart 0: jobs ITA has finished, published before the next trigger and at the end),
   `flushed` (hart 8: every output in L2). Step k of the DMA core waits for planned > k and
   done >= k - 2 (job k - 3 finished: slot k % 4 and the weight buffer of slot (k + 1) % 4 are
   free), starts the write-back of the finished jobs, loads job k's input and bias and job k + 1's
   weights and raises `ready`. Hart 0 programs job k from its plan while job k - 1 runs, waits for
   job k - 1 to finish, for `ready` and for the plan of job k + 1 (so that job k + 1 can be
   programmed while job k runs), and triggers.

   `ita_args` (written by the host into L1): dimensions, packed constants, L2 offsets of every
   input and output region, the wait mode (0: poll HWPE_BUSY, 1: sleep in wfi until the
   completion event) and a job limit (0: all). Results: jobs run, cycles from hart 0's start to
   the last completion, cycles to the first trigger, and the cycles from each job's trigger to
   the next, summed per step. */
#include "ita.h"

#define MAX_HEADS 4
#define TILE 4096u
#define NSLOT 4u
#define L2_BYTES (1024u * 1024u)
#define BIAS_ROW (64u * 3u)

enum { Q, K, V, QK, AV, OW, F1, F2, NSTEPS };

typedef struct {
  uint32_t S, E, P, F, H, activation;
  uint32_t gelu_b_c, act_requant;
  uint32_t wait_mode, max_jobs;
  uint32_t rqs[MAX_HEADS][6];
  /* per head: q, k, Wq, Wk, Wv, Wo, Bq, Bk, Bv, Bo */
  uint32_t head[MAX_HEADS][10];
  uint32_t ff, wf1, wf2, bf1, bf2;
  uint32_t out[NSTEPS];
  uint32_t out_size[NSTEPS];
  /* results */
  uint32_t jobs, cycles, first_trigger;
  uint32_t step_cycles[NSTEPS];
} ita_args_t;

ita_args_t ita_args SNRT_TCDM;
#define args ita_args
/* L2 image: inputs, weights, biases and output regions (offsets in `ita_args`). */
uint8_t ita_l2[L2_BYTES] __attribute__((aligned(4096)));

typedef struct {
  uint8_t in[TILE];
  uint8_t w[TILE];
  uint8_t out[TILE];
  uint8_t bias[256];
} slot_t;

static slot_t slots[NSLOT] __attribute__((section(".tcdm"), aligned(4096)));

/* Register values of one job and which of them to write. */
typedef struct {
  uint32_t reg[17];
  uint32_t mask, step, last;
} desc_t;

/* The plan of one job (hart 1 writes it, the DMA core and hart 0 read it). */
typedef struct {
  desc_t d;
  uint32_t loads;                   /* LOAD_INPUT, LOAD_WEIGHT */
  uint32_t w_l2, in_l2, next_w_l2;  /* L2 offsets: this job's weights, input, next job's weights */
  uint32_t bias_l2, bias_en, out_l2; /* out_l2 ~0 when the job writes no output */
} entry_t;

#define NPLAN 8u
static entry_t plan_q[NPLAN] SNRT_TCDM;

typedef struct {
  uint32_t iterated, iter_end, planned, ready, done, flushed;
} sync_t;

sync_t ita_sync SNRT_TCDM;
#define SYNC(f) (*(volatile uint32_t *)&ita_sync.f)

/* ------------------------------------------------------------------ job sequence */

/* One job, operands as L2 offsets. */
typedef struct {
  uint32_t step, in, w, bias, out;
  uint32_t stream, engine;
  uint32_t bias_en, out_en, consts;
  const uint32_t *rqs;
} job_t;

typedef struct {
  /* current segment (one step over a block of tiles) */
  uint32_t step, ox, oy, in;
  uint32_t b_in, b_w, b_bias, b_out;
  uint32_t ty, tx, ti;
  /* position in the program: head, phase (Q K V QK AV OW, then F1 F2), row group */
  uint32_t h, phase, g, end;
  uint32_t reg_cnt;
  uint32_t ts, te, tp, tf;
} iter_t;

enum { PH_Q, PH_K, PH_V, PH_QK, PH_AV, PH_OW, PH_F1, PH_F2, PH_END };

static uint32_t head_out(uint32_t s, uint32_t h) { return args.out[s] + h * args.out_size[s]; }

/* Sets up the segment of the iterator's (head, phase, group). */
static void segment(iter_t *it) {
  const uint32_t *hb = args.head[it->h];
  const uint32_t h = it->h, ts = it->ts, te = it->te, tp = it->tp, tf = it->tf;
  it->ty = it->tx = it->ti = 0;
  it->b_bias = 0;
  /* range tests, not a switch: its jump table would sit in DRAM (20 cycles a read) */
  const uint32_t ph = it->phase;
  if (ph >= PH_END) {
    it->end = 1;
  } else if (ph < PH_QK) {
    if (ph == PH_Q) {
    it->reg_cnt = 0;
    it->step = Q, it->ox = tp, it->oy = ts, it->in = te;
    it->b_in = hb[0], it->b_w = hb[2], it->b_bias = hb[6], it->b_out = head_out(Q, h);
    } else if (ph == PH_K) {
    it->step = K, it->ox = tp, it->oy = ts, it->in = te;
    it->b_in = hb[1], it->b_w = hb[3], it->b_bias = hb[7], it->b_out = head_out(K, h);
    } else {
    it->step = V, it->ox = ts, it->oy = tp, it->in = te;
    it->b_in = hb[4], it->b_w = hb[1], it->b_bias = hb[8], it->b_out = head_out(V, h);
    }
  } else if (ph < PH_OW) {
    if (ph == PH_QK) {
    it->step = QK, it->ox = ts, it->oy = 1, it->in = tp;
    it->b_in = head_out(Q, h) + it->g * tp * TILE, it->b_w = head_out(K, h);
    it->b_out = head_out(QK, h) + it->g * ts * TILE;
    } else {
    it->step = AV, it->ox = tp, it->oy = 1, it->in = ts;
    it->b_in = head_out(QK, h) + it->g * ts * TILE, it->b_w = head_out(V, h);
    it->b_out = head_out(AV, h) + it->g * tp * TILE;
    }
  } else if (ph == PH_OW) {
    it->step = OW, it->ox = te, it->oy = ts, it->in = tp;
    it->b_in = head_out(AV, h), it->b_w = hb[5], it->b_bias = hb[9], it->b_out = head_out(OW, h);
  } else if (ph == PH_F1) {
    it->reg_cnt = 0;
    it->step = F1, it->ox = tf, it->oy = ts, it->in = te;
    it->b_in = args.ff, it->b_w = args.wf1, it->b_bias = args.bf1, it->b_out = args.out[F1];
  } else {
    it->step = F2, it->ox = te, it->oy = ts, it->in = tf;
    it->b_in = args.out[F1], it->b_w = args.wf2, it->b_bias = args.bf2, it->b_out = args.out[F2];
  }
}

static void iter_init(iter_t *it) {
  it->ts = args.S / 64, it->te = args.E / 64, it->tp = args.P / 64, it->tf = args.F / 64;
  it->h = 0, it->phase = PH_Q, it->g = 0, it->end = 0;
  segment(it);
}

/* Moves to the next segment: QK and AV alternate per row group, heads repeat Q..OW. */
static void next_segment(iter_t *it) {
  if (it->phase == PH_QK) {
    it->phase = PH_AV;
  } else if (it->phase == PH_AV) {
    if (++it->g < it->ts) it->phase = PH_QK;
    else it->g = 0, it->phase = PH_OW;
  } else if (it->phase == PH_OW) {
    if (++it->h < args.H) it->phase = PH_Q;
    else it->h = args.H - 1, it->phase = PH_F1;
  } else {
    it->phase++;
  }
  segment(it);
}

/* Produces the next job; 0 at the end of the program. */
static int next_job(iter_t *it, job_t *j) {
  if (it->end) return 0;
  const uint32_t s = it->step, ty = it->ty, tx = it->tx, ti = it->ti;
  const int first = (ty | tx | ti) == 0;
  const int last = ty == it->oy - 1 && tx == it->ox - 1 && ti == it->in - 1;
  j->step = s;
  j->in = it->b_in + (ty * it->in + ti) * TILE;
  j->w = it->b_w + (tx * it->in + ti) * TILE;
  j->bias = it->b_bias + (s == V ? ty : tx) * BIAS_ROW;
  j->out = it->b_out + (ty * it->ox + tx) * TILE;
  uint32_t stream = 0, engine = 0;
  if (s == Q || s == F1) {
    stream = first ? ITA_STREAM_PRELOAD | ITA_STREAM_NEXTLOAD : ITA_STREAM_NEXTLOAD;
    if (s == F1) engine = 1u | (args.activation << 2);
  } else if (s == K) {
    stream = ITA_STREAM_NEXTLOAD;
  } else if (s == V) {
    stream = ITA_STREAM_NEXTLOAD | ITA_STREAM_BIAS_DIR;
  } else if (s == QK || s == AV) {
    stream = ITA_STREAM_NEXTLOAD | ITA_STREAM_BIAS_DISABLE;
  } else {
    stream = last ? 0u : ITA_STREAM_NEXTLOAD;
    engine = s == F2 ? 1u : 0u;
  }
  j->out_en = ti == it->in - 1;
  if (!j->out_en) stream |= ITA_STREAM_OUTPUT_DISABLE;
  j->stream = stream;
  j->engine = engine;
  j->bias_en = !(stream & ITA_STREAM_BIAS_DISABLE);
  j->consts = it->reg_cnt < 4;
  if (j->consts) it->reg_cnt++;
  j->rqs = args.rqs[it->h];
  /* advance: inner tile, then output column, then output row */
  if (++it->ti == it->in) {
    it->ti = 0;
    if (++it->tx == it->ox) {
      it->tx = 0;
      if (++it->ty == it->oy) next_segment(it);
    }
  }
  return 1;
}

/* ------------------------------------------------------------------ hart 1: the plan */

enum { LOAD_INPUT = 1, LOAD_WEIGHT = 2 };

static inline uint32_t l1(const volatile void *p) { return ita_ptr(p); }

/* Where the jobs' operands live in L1, as the plan has placed them so far. */
typedef struct {
  uint32_t out_l2[NSLOT]; /* L2 offset of each slot's output, ~0 when the job writes none */
  uint32_t w_l1[NSLOT];   /* L1 address the HWPE reads each slot's weights from */
} place_t;

/* L1 address of the output tile of one of the jobs [k - back, k - 1] at L2 offset `addr`, or 0. */
static uint32_t forward(const place_t *p, uint32_t k, uint32_t back, uint32_t addr) {
  for (uint32_t d = 1; d <= back && d <= k; d++) {
    const uint32_t s = (k - d) % NSLOT;
    if (p->out_l2[s] == addr) return l1(slots[s].out);
  }
  return 0;
}

/* Plans job k (`nxt`: job k + 1, or 0): its input into slot k % 4 unless it is one of the last
   three jobs' outputs, the next job's weights into slot (k + 1) % 4 unless they are one of the
   last two (they are read from job k on, when job k - 3's output slot is rewritten by job k + 1),
   and the register values. */
static void plan_job(place_t *p, uint32_t k, const job_t *cur, const job_t *nxt, entry_t *e) {
  const uint32_t s = k % NSLOT, s1 = (k + 1) % NSLOT;
  desc_t *d = &e->d;
  uint32_t loads = 0;
  uint32_t in = forward(p, k, 3, cur->in);
  if (!in) {
    in = l1(slots[s].in);
    loads |= LOAD_INPUT;
  }
  if (nxt) {
    uint32_t w = forward(p, k, 2, nxt->w);
    if (!w) {
      w = l1(slots[s1].w);
      loads |= LOAD_WEIGHT;
    }
    p->w_l1[s1] = w;
  }
  p->out_l2[s] = cur->out_en ? cur->out : ~0u;
  e->loads = loads;
  e->w_l2 = cur->w;
  e->in_l2 = cur->in;
  e->next_w_l2 = nxt ? nxt->w : 0;
  e->bias_l2 = cur->bias;
  e->bias_en = cur->bias_en;
  e->out_l2 = p->out_l2[s];
  uint32_t m = (1u << ITA_REG_INPUT_PTR) | (1u << ITA_REG_WEIGHT_PTR0) | (1u << ITA_REG_OUTPUT_PTR) |
               (1u << ITA_REG_CTRL_ENGINE) | (1u << ITA_REG_CTRL_STREAM);
  d->reg[ITA_REG_INPUT_PTR] = in;
  d->reg[ITA_REG_WEIGHT_PTR0] = p->w_l1[s];
  d->reg[ITA_REG_OUTPUT_PTR] = l1(slots[s].out);
  if (cur->stream & ITA_STREAM_NEXTLOAD) {
    d->reg[ITA_REG_WEIGHT_PTR1] = nxt ? p->w_l1[s1] : l1(slots[s1].w);
    m |= 1u << ITA_REG_WEIGHT_PTR1;
  }
  if (cur->bias_en) {
    d->reg[ITA_REG_BIAS_PTR] = l1(slots[s].bias);
    m |= 1u << ITA_REG_BIAS_PTR;
  }
  if (cur->consts) {
    for (uint32_t r = 0; r < 6; r++) d->reg[ITA_REG_EPS_MULT0 + r] = cur->rqs[r];
    d->reg[ITA_REG_GELU_B_C] = args.gelu_b_c;
    d->reg[ITA_REG_ACTIVATION_REQUANT] = args.act_requant;
    m |= (0x3fu << ITA_REG_EPS_MULT0) | (1u << ITA_REG_GELU_B_C) | (1u << ITA_REG_ACTIVATION_REQUANT);
  }
  d->reg[ITA_REG_CTRL_ENGINE] = cur->engine;
  d->reg[ITA_REG_CTRL_STREAM] = cur->stream;
  d->mask = m;
  d->step = cur->step;
  d->last = !nxt;
}

/* Hart 2 walks the job sequence into a ring of NJOB jobs (job n in entry n % NJOB, rewritten once
   hart 1 has planned job n - NJOB + 1: it reads a job as `nxt` and then as `cur`). */
#define NJOB 16u
static job_t jobs_q[NJOB] SNRT_TCDM;

static void iterator_main(void) {
  iter_t it;
  iter_init(&it);
  const uint32_t limit = args.max_jobs;
  for (uint32_t n = 0; limit == 0 || n < limit; n++) {
    while (SYNC(planned) + NJOB < n + 1) {
    }
    if (!next_job(&it, &jobs_q[n % NJOB])) break;
    SYNC(iterated) = n + 1;
  }
  SYNC(iter_end) = 1;
}

/* Hart 1 plans every job, up to NPLAN ahead of the HWPE: entry k % NPLAN held job k - NPLAN,
   free once hart 0 has triggered job k - NPLAN + 1 (done >= k - NPLAN + 1). */
static void planner_main(void) {
  place_t p;
  for (uint32_t s = 0; s < NSLOT; s++) p.out_l2[s] = ~0u;
  p.w_l1[0] = l1(slots[0].w);
  for (uint32_t k = 0;; k++) {
    /* job k and the one after (or the end of the sequence) */
    while (SYNC(iterated) <= k + 1 && !SYNC(iter_end)) {
    }
    const uint32_t n = SYNC(iterated);
    if (n <= k) break;
    const int has_nxt = n > k + 1;
    while (SYNC(done) + NPLAN < k + 1) {
    }
    plan_job(&p, k, &jobs_q[k % NJOB], has_nxt ? &jobs_q[(k + 1) % NJOB] : 0, &plan_q[k % NPLAN]);
    SYNC(planned) = k + 1;
    if (!has_nxt) break;
  }
}

/* ------------------------------------------------------------------ DMA core */

/* Starts the write-back of the outputs of jobs [*wb, done); returns whether it started any. */
static int write_back(const uint32_t *out_l2, uint32_t *wb, uint32_t done) {
  int issued = 0;
  for (; *wb < done; (*wb)++) {
    const uint32_t s = *wb % NSLOT;
    if (out_l2[s] == ~0u) continue;
    snrt_dma_start_1d(ita_l2 + out_l2[s], slots[s].out, TILE);
    issued = 1;
  }
  return issued;
}

/* Loads a tile from L2; one that a job produced waits for the write-backs started before. */
static void load_tile(volatile void *dst, uint32_t src, int *wb_pending) {
  if (*wb_pending && src >= args.out[Q]) {
    snrt_dma_wait_all();
    *wb_pending = 0;
  }
  snrt_dma_start_1d(dst, ita_l2 + src, TILE);
}

/* Executes the plan's transfers one job ahead of the HWPE and writes the outputs back. */
static void dma_main(void) {
  uint32_t out_l2[NSLOT];
  uint32_t wb = 0, k = 0;
  for (;; k++) {
    while (SYNC(planned) <= k) {
    }
    const entry_t *e = &plan_q[k % NPLAN];
    const uint32_t s = k % NSLOT;
    if (k == 0) snrt_dma_start_1d(slots[0].w, ita_l2 + e->w_l2, TILE);
    /* slot s and the weight buffer of slot s + 1 are free once job k - 3 is done */
    while (SYNC(done) + 2 < k) {
    }
    int wb_pending = write_back(out_l2, &wb, SYNC(done));
    if (e->loads & LOAD_INPUT) load_tile(slots[s].in, e->in_l2, &wb_pending);
    if (e->bias_en) snrt_dma_start_1d(slots[s].bias, ita_l2 + e->bias_l2, BIAS_ROW);
    if (e->loads & LOAD_WEIGHT) load_tile(slots[(k + 1) % NSLOT].w, e->next_w_l2, &wb_pending);
    out_l2[s] = e->out_l2;
    const uint32_t last = e->d.last;
    snrt_dma_wait_all();
    SYNC(ready) = k + 1;
    if (last) break;
  }
  k++;
  while (SYNC(done) < k) {
  }
  write_back(out_l2, &wb, k);
  snrt_dma_wait_all();
  SYNC(flushed) = 1;
}

/* ------------------------------------------------------------------ hart 0: the HWPE */

static void wait_done(void) {
  if (args.wait_mode == 1) ita_wait_event();
  else ita_wait_idle();
}

/* Programs and triggers every planned job: acquire a job context and write the job's registers
   while the previous job runs, wait for it to finish and for the DMA core to have the operands
   in L1, trigger. The registers must be in place before the previous job ends: between two jobs
   the HWPE's running context is the one being programmed, and ITA's controller compares its
   tile counters with that context's tile counts in every cycle (a fresh context reads as one
   tile and advances them), while the stream control of that context steers the bias path (a
   stale one corrupts the first row of each column group). So the tile counts go first, then
   the stream and engine control, then the rest. */
static uint32_t issue_jobs(uint32_t t0) {
  const uint32_t tiles = (args.S / 64) | ((args.E / 64) << 4) | ((args.P / 64) << 8) | ((args.F / 64) << 12);
  uint32_t t_prev = 0, prev_step = 0, k = 0;
  for (;; k++) {
    ita_acquire();
    ita_reg(ITA_REG_TILES, tiles);
    while (SYNC(planned) <= k) {
    }
    const desc_t *d = &plan_q[k % NPLAN].d;
    ita_reg(ITA_REG_CTRL_STREAM, d->reg[ITA_REG_CTRL_STREAM]);
    ita_reg(ITA_REG_CTRL_ENGINE, d->reg[ITA_REG_CTRL_ENGINE]);
    uint32_t m = d->mask & ~((1u << ITA_REG_CTRL_STREAM) | (1u << ITA_REG_CTRL_ENGINE));
    for (uint32_t r = 0; m; r++, m >>= 1)
      if (m & 1u) ita_reg(r, d->reg[r]);
    const uint32_t step = d->step, last = d->last;
    if (k > 0) {
      wait_done();
      SYNC(done) = k;
    }
    while (SYNC(ready) <= k) {
    }
    /* the next job's plan exists before this one starts, so its registers can be written in time */
    while (!last && SYNC(planned) <= k + 1) {
    }
    ita_trigger();
    uint32_t t = snrt_mcycle();
    if (k > 0) args.step_cycles[prev_step] += t - t_prev;
    else args.first_trigger = t - t0;
    t_prev = t;
    prev_step = step;
    if (last) break;
  }
  wait_done();
  args.step_cycles[prev_step] += snrt_mcycle() - t_prev;
  SYNC(done) = k + 1;
  return k + 1;
}

int main(uint32_t hartid) {
  uint32_t t0 = snrt_mcycle();
  if (hartid == 0) {
    SYNC(done) = 0;
    for (uint32_t s = 0; s < NSTEPS; s++) args.step_cycles[s] = 0;
    ita_soft_clear();
  } else if (hartid == 1) {
    SYNC(planned) = 0;
  } else if (hartid == 2) {
    SYNC(iterated) = 0;
    SYNC(iter_end) = 0;
  } else if (hartid == SNRT_DMA_CORE) {
    SYNC(ready) = 0;
    SYNC(flushed) = 0;
  }
  snrt_cluster_barrier();
  if (hartid == 1) planner_main();
  if (hartid == 2) iterator_main();
  if (hartid == SNRT_DMA_CORE) dma_main();
  if (hartid != 0) return 0;
  const uint32_t n = issue_jobs(t0);
  args.cycles = snrt_mcycle() - t0;
  while (!SYNC(flushed)) {
  }
  ita_soft_clear();
  args.jobs = n;
  return 0;
}
