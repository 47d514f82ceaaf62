/**
 * One batch commit in flight at a time (DESIGN.md §3.2–3.3): the pipeline hands a batch's
 * commit to the slot and goes on filling the next batch; before handing over another commit, or
 * when it must know everything is merged, it settles the slot. A failed commit is kept and
 * thrown at the next settle or check, so the loop stops at once.
 */
export class CommitSlot {
  private inflight: Promise<void> | null = null;
  /** The first failed commit's error, boxed: a thrown value may itself be falsy. */
  private failure: { error: unknown } | null = null;

  /**
   * Starts `commit`; `merged` runs after it succeeds (record the position, acknowledge the
   * source). Call {@link settle} first: one commit at a time.
   */
  start<T>(commit: Promise<T>, merged: (result: T) => void | Promise<void>): void {
    this.inflight = commit.then(merged).then(
      () => undefined,
      (error: unknown) => {
        this.failure ??= { error };
      },
    );
  }

  /**
   * Waits for the commit in flight, if any.
   * @throws the error of a failed commit (also of one that failed earlier).
   */
  async settle(): Promise<void> {
    const p = this.inflight;
    this.inflight = null;
    if (p) await p;
    this.check();
  }

  /** Throws the error of a failed commit, if one failed. */
  check(): void {
    if (this.failure) throw this.failure.error;
  }

  /** Waits for the commit in flight without throwing (cleaning up after another error). */
  async drain(): Promise<void> {
    await this.inflight?.catch(() => undefined);
  }
}
