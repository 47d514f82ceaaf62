/**
 * The JetStream transport's pending-ack list, bounded (issue 11 item 17: memory does not grow with
 * the number of messages fetched and not yet merged).
 *
 * Under ack policy `all`, acknowledging one message acknowledges every earlier one, so the
 * transport needs, for a merged sequence, only some fetched message at or below it to carry the
 * ack, not every message. This list keeps the reply subjects (the ack addresses, about a hundred
 * bytes each; never the payloads) of at most `capacity` fetched messages, spread evenly: it keeps
 * one message in `stride`, and when it is full it drops every second one and doubles the stride.
 * So carriers are at most about 2 × (messages fetched) / capacity apart. An acknowledgement then uses the newest carrier at or below the merged
 * sequence, which may be a little below it; the messages in between are acknowledged by the next
 * one (or, after a stop, are delivered again and skipped: the target's position decides). The
 * newest fetched message is always kept, so once everything fetched is merged the ack is exact.
 */

/** Fetched, unacknowledged JetStream messages as ack carriers: at most `capacity` of them. */
export class AckCarriers {
  /** Older carriers, in stream order, about `stride` messages apart. */
  private sequences: number[] = [];
  private replies: string[] = [];
  /** The newest fetched message, always kept. */
  private newest: { sequence: number; reply: string } | undefined;
  /** Keep one message in `stride` of those fetched (doubles each time the list is thinned). */
  private stride = 1;
  /** Messages passed over since the last one kept. */
  private passed = 0;

  /** @param capacity the most carriers kept (at least 2). */
  constructor(readonly capacity = 1024) {
    if (!(capacity >= 2)) throw new RangeError(`AckCarriers capacity must be at least 2, not ${capacity}`);
  }

  /** Carriers kept now. */
  get size(): number {
    return this.sequences.length + (this.newest ? 1 : 0);
  }

  /** Adds a fetched message (stream sequences must increase); thins the list when it is full. */
  add(sequence: number, reply: string): void {
    const previous = this.newest;
    this.newest = { sequence, reply };
    if (previous === undefined) return;
    if (++this.passed < this.stride) return;
    this.passed = 0;
    this.sequences.push(previous.sequence);
    this.replies.push(previous.reply);
    if (this.sequences.length < this.capacity) return;
    // Full: keep every second carrier (the newest of them included), and keep fewer from now on.
    const last = this.sequences.length - 1;
    const sequences: number[] = [];
    const replies: string[] = [];
    for (let i = last % 2; i <= last; i += 2) {
      sequences.push(this.sequences[i]!);
      replies.push(this.replies[i]!);
    }
    this.sequences = sequences;
    this.replies = replies;
    this.stride *= 2;
  }

  /**
   * Removes and returns the carrier for a merged sequence: the newest kept message at or below
   * `limit` (undefined when none is), with every carrier before it.
   */
  take(limit: number): { sequence: number; reply: string } | undefined {
    if (this.newest !== undefined && this.newest.sequence <= limit) {
      const carrier = this.newest;
      this.sequences = [];
      this.replies = [];
      this.newest = undefined;
      this.stride = 1;
      this.passed = 0;
      return carrier;
    }
    const sequences = this.sequences;
    let i = 0;
    while (i < sequences.length && sequences[i]! <= limit) i++;
    if (i === 0) return undefined;
    const carrier = { sequence: sequences[i - 1]!, reply: this.replies[i - 1]! };
    this.sequences = sequences.slice(i);
    this.replies = this.replies.slice(i);
    return carrier;
  }
}
