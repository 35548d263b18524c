/**
 * `rr_arb_tree` of common_cells as the cluster instantiates it everywhere (`LockIn`, `FairArb`,
 * `AxiVldRdy`): a tree of 2:1 nodes, each preferring the side whose index bit equals the
 * pointer's bit when both request, so the requester with the smallest index XOR pointer wins; on
 * a grant the pointer moves to the lowest requester above it (else wraps to the lowest one); a
 * winner that is not taken freezes the request set until it is. Used by the instruction cache,
 * the shared mul/div and the narrow and wide AXI paths; the TCDM banks apply the same rule on
 * their own register arrays.
 */
export class RrArbTree {
  rr = 0;
  lock = false;
  reqQ = 0;
  private readonly levels: number;
  constructor(readonly n: number) {
    this.levels = Math.max(1, Math.ceil(Math.log2(n)));
  }
  /** The requests the tree sees this cycle (frozen while locked). */
  requests(reqI: number): number {
    return this.lock ? this.reqQ : reqI;
  }
  /** Index the tree selects for `req` (-1 if none requests). */
  winner(req: number): number {
    if (req === 0) return -1;
    return this.node(0, 0, req);
  }
  private node(level: number, l: number, req: number): number {
    const span = 1 << (this.levels - level);
    const lo = l * span;
    const half = span >> 1;
    const leftReq = (req >>> lo) & ((1 << half) - 1);
    const rightReq = half >= 31 ? 0 : (req >>> (lo + half)) & ((1 << half) - 1);
    const rrBit = (this.rr >>> (this.levels - 1 - level)) & 1;
    const sel = leftReq === 0 || (rightReq !== 0 && rrBit === 1);
    if (level === this.levels - 1) return sel ? lo + 1 : lo;
    return this.node(level + 1, 2 * l + (sel ? 1 : 0), req);
  }
  /** Registers at the edge: `granted` = the output handshake happened. */
  commit(req: number, granted: boolean): void {
    const reqO = req !== 0;
    if (granted && reqO) {
      let next = -1;
      for (let i = this.rr + 1; i < this.n; i++)
        if ((req >>> i) & 1) {
          next = i;
          break;
        }
      if (next < 0)
        for (let i = 0; i <= this.rr; i++)
          if ((req >>> i) & 1) {
            next = i;
            break;
          }
      this.rr = next;
    }
    this.lock = reqO && !granted;
    this.reqQ = req;
  }
}
