/**
 * START_REPLICATION on a `pg` replication connection, read as a queue of CopyData frames.
 *
 * `pg` hands each backend message of the active query to the query object; this module is such
 * an object (a "submittable", the mechanism pg-copy-streams uses), so the frames arrive
 * already split into whole CopyData messages. Backpressure: when more than
 * {@link ReplicationStreamOptions.highWaterFrames} frames wait unread, the socket is paused;
 * the server then blocks in its send and WAL stays in the slot.
 * @see https://www.postgresql.org/docs/current/protocol-replication.html
 */
import type pg from 'pg';

/** Options for {@link ReplicationStream}. */
export interface ReplicationStreamOptions {
  /** Frames buffered before the socket is paused (default 2048). */
  readonly highWaterFrames?: number;
}

interface PgConnection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
  stream: { pause(): void; resume(): void };
}

/**
 * The START_REPLICATION command in flight. Iterate it for frames; {@link send} writes a
 * CopyData frame (a standby status update) back; {@link end} sends CopyDone and resolves when
 * the server has finished. Read frames with {@link read}.
 */
export class ReplicationStream {
  private connection: PgConnection | undefined;
  private readonly frames: Buffer[] = [];
  private waiter: (() => void) | undefined;
  private error: Error | undefined;
  private finished = false;
  private paused = false;
  private readonly highWater: number;
  private readonly done: Promise<void>;
  private resolveDone!: () => void;

  /** Creates the command; pass it to `client.query()` to start it. */
  constructor(
    readonly text: string,
    options: ReplicationStreamOptions = {},
  ) {
    this.highWater = options.highWaterFrames ?? 2048;
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  /** Called by `pg` when the command's turn comes. */
  submit(connection: PgConnection): void {
    this.connection = connection;
    connection.query(this.text);
  }

  /** Writes one CopyData frame to the server (e.g. a standby status update). */
  send(frame: Buffer): void {
    if (!this.connection || this.finished) return;
    this.connection.sendCopyFromChunk(frame);
  }

  /** Ends the stream (CopyDone) and resolves once the server has answered. */
  async end(): Promise<void> {
    if (this.connection && !this.finished) {
      this.connection.endCopyFrom();
      if (this.paused) this.connection.stream.resume();
    }
    // The server answers CopyDone at once; the bound only guards against a dead connection.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.done, new Promise((r) => (timer = setTimeout(r, 5000)))]);
    clearTimeout(timer);
  }

  // ---- pg query-object callbacks ----
  handleCopyData(msg: { chunk: Buffer }): void {
    // pg's parser hands out views into a buffer it reuses for later socket reads: a queued
    // frame must own its bytes or it is overwritten before it is decoded.
    this.frames.push(Buffer.from(msg.chunk));
    if (!this.paused && this.frames.length >= this.highWater && this.connection) {
      this.paused = true;
      this.connection.stream.pause();
    }
    this.wake();
  }
  handleError(error: Error): void {
    this.error = error;
    this.finish();
  }
  handleReadyForQuery(): void {
    this.finish();
  }
  handleCommandComplete(): void {}
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyInResponse(): void {}

  private finish(): void {
    this.finished = true;
    this.resolveDone();
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /** The next frame if one is already queued (no waiting, no promise); else undefined. */
  poll(): Buffer | undefined {
    const frame = this.frames.shift();
    if (frame && this.paused && this.frames.length <= this.highWater / 2 && this.connection) {
      this.paused = false;
      this.connection.stream.resume();
    }
    return frame;
  }

  /**
   * The next frame; `'timeout'` when none arrived within `timeoutMs` ms; `'end'` once the
   * server has ended the stream.
   * @throws {Error} the server's error (e.g. the slot was invalidated or is in use).
   */
  async read(timeoutMs: number): Promise<Buffer | 'timeout' | 'end'> {
    for (let waited = false; ; waited = true) {
      const frame = this.poll();
      if (frame) return frame;
      if (this.error) throw this.error;
      if (this.finished) return 'end';
      if (waited) return 'timeout';
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
        timer = setTimeout(resolve, timeoutMs);
      });
      clearTimeout(timer);
      this.waiter = undefined;
    }
  }
}

/** Starts `stream` on a replication-mode client (pg's `query` accepts query objects). */
export function startReplicationStream(client: pg.Client, stream: ReplicationStream): void {
  // pg resolves a submittable's promise-less query; errors surface through handleError.
  (client as unknown as { query(q: unknown): unknown }).query(stream);
}
