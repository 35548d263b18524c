/* Multi-head attention and feed-forward on ITA: hart 0 drives the HWPE through the driver in
   runtime/ita.h, job by job, over data the host placed in L1 (`ita_l1`, PyITA's `hwpe/mem.txt`
   layout). Steps per head: Q, K, V projections, then per row group of 64 QK^T (with ITAMax) and
   AV, then the output projection OW; after the heads the feed-forward F1 (with activation) and
   F2. Each job computes one 64 x 64 output tile or one inner tile of it; the weights of the
   following job are prefetched through the next-weight pointer. Job constants (tile counts,
   requantisation, GELU and activation constants) are written while the job contexts are fresh
   (the first four jobs of each head and of the feed-forward), as the register file keeps them.
   The core first builds the job table in L1, then streams it to the HWPE, so programming a job
   (a few tens of cycles) hides behind the running one.

   `ita_args` (written by the host): dimensions, packed constants, L1 offsets of every input and
   output region, the wait mode (0: poll HWPE_BUSY before each trigger, 1: sleep in wfi until the
   completion event) and a job limit (0: all). The program reports the jobs run, the cycles of the
   issue phase (first register write to the last completion) and the cycles from each job's
   trigger to the next, summed per step. The arguments live in L1 (the host writes them there). */
#include "ita.h"

#define MAX_HEADS 4
#define TILE (64u * 64u)
#define L1_BYTES (96u * 1024u)
#define MAX_JOBS 128

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
  uint32_t jobs, cycles;
  uint32_t step_cycles[NSTEPS];
} ita_args_t;

/* Arguments in L1 (the host writes them there): the job loop reads them at TCDM latency. */
ita_args_t ita_args SNRT_TCDM;
#define args ita_args
uint8_t ita_l1[L1_BYTES] __attribute__((section(".tcdm"), aligned(1024)));

/* One job: the value of each job register and which of them to write. */
typedef struct {
  uint32_t reg[17];
  uint32_t mask;
  uint32_t step;
} job_t;

static job_t jobs[MAX_JOBS] SNRT_TCDM;

typedef struct {
  uint32_t outer_x[NSTEPS], outer_y[NSTEPS], inner[NSTEPS];
  uint32_t in[NSTEPS], w0[NSTEPS], w1[NSTEPS], bias[NSTEPS], out[NSTEPS];
  uint32_t tiles, reg_cnt, jobs, stop;
  const uint32_t *rqs;
} ctx_t;

static void wait_done(void) {
  if (args.wait_mode == 1) ita_wait_event();
  else ita_wait_idle();
}

static void compute_step(ctx_t *restrict c, uint32_t step) {
  const uint32_t l1 = ita_ptr(ita_l1);
  const uint32_t ox = c->outer_x[step], oy = c->outer_y[step], in = c->inner[step];
  const uint32_t n_tiles = ox * oy * in, per = ox * in;
  for (uint32_t ty = 0; ty < oy; ty++) {
    for (uint32_t tx = 0; tx < ox; tx++) {
      for (uint32_t ti = 0; ti < in; ti++) {
        if (c->stop) return;
        const uint32_t tile = (ty * ox + tx) * in + ti;
        const int last = tile == n_tiles - 1;
        uint32_t input = c->in[step] + (ty * in + ti) * TILE;
        uint32_t output = c->out[step] + (ty * ox + tx) * TILE;
        uint32_t bias = c->bias[step] + (step == V ? ty : tx) * 64u * 3u;
        uint32_t w0 = c->w0[step] + (tile % per) * TILE;
        uint32_t w1;
        if (last) w1 = step == AV ? c->w0[QK] : c->w1[step];
        else w1 = c->w0[step] + ((tile + 1) % per) * TILE;
        uint32_t engine = 0, stream = 0;
        int w_en = 0, b_en = 0;
        switch (step) {
        case Q:
          stream = tile == 0 ? 3u : 2u;
          w_en = b_en = 1;
          break;
        case K:
          stream = 2u;
          w_en = b_en = 1;
          break;
        case V:
          stream = 0xau;
          w_en = b_en = 1;
          break;
        case QK:
        case AV:
          stream = 6u;
          w_en = 1;
          break;
        case OW:
        case F2:
          engine = step == F2 ? 1u : 0u;
          stream = last ? 0u : 2u;
          w_en = !last;
          b_en = 1;
          break;
        case F1:
          engine = 1u | (args.activation << 2);
          stream = tile == 0 ? 3u : 2u;
          w_en = b_en = 1;
          break;
        }
        if ((tile + 1) % in != 0) stream |= ITA_STREAM_OUTPUT_DISABLE;
        job_t *j = &jobs[c->jobs];
        uint32_t m = (1u << ITA_REG_INPUT_PTR) | (1u << ITA_REG_WEIGHT_PTR0) | (1u << ITA_REG_OUTPUT_PTR) |
                     (1u << ITA_REG_CTRL_ENGINE) | (1u << ITA_REG_CTRL_STREAM);
        j->reg[ITA_REG_INPUT_PTR] = l1 + input;
        j->reg[ITA_REG_WEIGHT_PTR0] = l1 + w0;
        j->reg[ITA_REG_WEIGHT_PTR1] = l1 + w1;
        j->reg[ITA_REG_BIAS_PTR] = l1 + bias;
        j->reg[ITA_REG_OUTPUT_PTR] = l1 + output;
        if (w_en) m |= 1u << ITA_REG_WEIGHT_PTR1;
        if (b_en) m |= 1u << ITA_REG_BIAS_PTR;
        if (c->reg_cnt < 4) {
          c->reg_cnt++;
          j->reg[ITA_REG_TILES] = c->tiles;
          for (uint32_t k = 0; k < 6; k++) j->reg[ITA_REG_EPS_MULT0 + k] = c->rqs[k];
          j->reg[ITA_REG_GELU_B_C] = args.gelu_b_c;
          j->reg[ITA_REG_ACTIVATION_REQUANT] = args.act_requant;
          m |= (1u << ITA_REG_TILES) | (0x3fu << ITA_REG_EPS_MULT0) | (1u << ITA_REG_GELU_B_C) |
               (1u << ITA_REG_ACTIVATION_REQUANT);
        }
        j->reg[ITA_REG_CTRL_ENGINE] = engine;
        j->reg[ITA_REG_CTRL_STREAM] = stream;
        j->mask = m;
        j->step = step;
        c->jobs++;
        if (c->jobs == MAX_JOBS) c->stop = 1;
      }
    }
  }
}

static void run_step(ctx_t *c, uint32_t step) {
  if (!c->stop) compute_step(c, step);
}

/* Programs and triggers every job of the table: acquire a job context, write the job's registers
   while the previous job runs, wait for it to finish, trigger. Stream and
   engine control go first: once the running job is done, the HWPE's running context is the one
   being programmed and the core takes its control from there. */
static void issue_jobs(uint32_t n) {
  uint32_t t_prev = snrt_mcycle();
  for (uint32_t i = 0; i < n; i++) {
    const job_t *j = &jobs[i];
    ita_acquire();
    ita_reg(ITA_REG_CTRL_STREAM, j->reg[ITA_REG_CTRL_STREAM]);
    ita_reg(ITA_REG_CTRL_ENGINE, j->reg[ITA_REG_CTRL_ENGINE]);
    uint32_t m = j->mask & ~((1u << ITA_REG_CTRL_STREAM) | (1u << ITA_REG_CTRL_ENGINE));
    for (uint32_t k = 0; m; k++, m >>= 1)
      if (m & 1u) ita_reg(k, j->reg[k]);
    if (i > 0) wait_done();
    ita_trigger();
    uint32_t t = snrt_mcycle();
    if (i > 0) args.step_cycles[jobs[i - 1].step] += t - t_prev;
    t_prev = t;
  }
  wait_done();
  if (n > 0) args.step_cycles[jobs[n - 1].step] += snrt_mcycle() - t_prev;
}

int main(uint32_t hartid) {
  if (hartid != 0) return 0;
  ita_args_t *a = &args;
  const uint32_t ts = a->S / 64, te = a->E / 64, tp = a->P / 64, tf = a->F / 64;
  ctx_t c;
  const uint32_t ox[NSTEPS] = {tp, tp, ts, ts, tp, te, tf, te};
  const uint32_t oy[NSTEPS] = {ts, ts, tp, 1, 1, ts, ts, ts};
  const uint32_t inner[NSTEPS] = {te, te, te, tp, ts, tp, te, tf};
  for (uint32_t s = 0; s < NSTEPS; s++) {
    c.outer_x[s] = ox[s];
    c.outer_y[s] = oy[s];
    c.inner[s] = inner[s];
    a->step_cycles[s] = 0;
  }
  c.tiles = ts | (te << 4) | (tp << 8) | (tf << 12);
  c.reg_cnt = 0;
  c.jobs = 0;
  c.stop = 0;
  for (uint32_t h = 0; h < a->H && h < MAX_HEADS; h++) {
    const uint32_t *hb = a->head[h];
    c.rqs = a->rqs[h];
    if (h > 0) c.reg_cnt = 0;
    uint32_t ob[NSTEPS];
    for (uint32_t s = 0; s < NSTEPS; s++) ob[s] = a->out[s] + h * a->out_size[s];
    const uint32_t in[NSTEPS] = {hb[0], hb[1], hb[4], ob[Q], ob[QK], ob[AV], a->ff, a->out[F1]};
    const uint32_t w0[NSTEPS] = {hb[2], hb[3], hb[1], ob[K], ob[V], hb[5], a->wf1, a->wf2};
    const uint32_t bias[NSTEPS] = {hb[6], hb[7], hb[8], 0, 0, hb[9], a->bf1, a->bf2};
    const uint32_t out[NSTEPS] = {ob[Q], ob[K], ob[V], ob[QK], ob[AV], ob[OW], a->out[F1], a->out[F2]};
    for (uint32_t s = 0; s < NSTEPS; s++) {
      c.in[s] = in[s];
      c.w0[s] = w0[s];
      c.bias[s] = bias[s];
      c.out[s] = out[s];
    }
    /* next-weight pointer at the end of a step: the next step's first weights */
    c.w1[Q] = w0[K];
    c.w1[K] = w0[V];
    c.w1[V] = w0[QK];
    c.w1[QK] = w0[AV];
    c.w1[AV] = 0;
    c.w1[OW] = 0;
    c.w1[F1] = w0[F2];
    c.w1[F2] = 0;
    run_step(&c, Q);
    run_step(&c, K);
    run_step(&c, V);
    for (uint32_t g = 0; g < ts; g++) {
      c.in[QK] = ob[Q] + g * c.inner[QK] * TILE;
      c.out[QK] = ob[QK] + g * c.outer_x[QK] * TILE;
      c.in[AV] = ob[QK] + g * c.inner[AV] * TILE;
      c.out[AV] = ob[AV] + g * c.outer_x[AV] * TILE;
      run_step(&c, QK);
      if (g == ts - 1) c.w0[QK] = c.w0[OW];
      run_step(&c, AV);
    }
    run_step(&c, OW);
  }
  c.reg_cnt = 0;
  run_step(&c, F1);
  run_step(&c, F2);
  uint32_t n = c.jobs;
  if (a->max_jobs && a->max_jobs < n) n = a->max_jobs;
  uint32_t t0 = snrt_mcycle();
  ita_soft_clear();
  issue_jobs(n);
  ita_soft_clear();
  a->jobs = n;
  a->cycles = snrt_mcycle() - t0;
  return 0;
}
