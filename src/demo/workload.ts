/**
 * A shop's day on the Chinook database, for the demo: customers buy tracks (an invoice and its
 * lines in one transaction), change their e-mail addresses, prices move, orders are corrected
 * or cancelled, the schema grows a column or two, and once a price rise touches thousands of
 * rows in one transaction.
 */
import pg from 'pg';

/** What the workload did so far. */
export interface WorkloadStats {
  /** Committed source transactions. */
  transactions: number;
  /** Rows inserted, updated or deleted by them. */
  changes: number;
  /** ALTER TABLE … ADD COLUMN statements run. */
  schemaChanges: number;
}

/** Options for {@link runChinookWorkload}. */
export interface WorkloadOptions {
  /** The source database holding Chinook. */
  readonly url: string;
  /** How long to run. */
  readonly seconds: number;
  /** Transactions per second to aim for. */
  readonly ratePerSecond: number;
  /** Seed of the random choices (same seed, same sequence of transactions). */
  readonly seed?: number;
  /** Stops the workload early. */
  readonly signal?: AbortSignal;
  /** Called once per elapsed second with the totals so far. */
  readonly onTick?: (second: number, stats: Readonly<WorkloadStats>) => void | Promise<void>;
  /** Called for notable one-off events (schema changes, the large update). */
  readonly onEvent?: (message: string) => void;
}

/** A small deterministic random number generator (mulberry32). */
function randomSource(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The shop: one connection and what it knows of the rows it may touch. */
class Shop {
  private readonly random: () => number;
  private customers: number[] = [];
  private tracks: number[] = [];
  private invoices: number[] = [];
  private nextInvoiceId = 1;
  private nextLineId = 1;
  private hasLoyaltyTier = false;
  private hasSalesChannel = false;
  readonly stats: WorkloadStats = { transactions: 0, changes: 0, schemaChanges: 0 };

  constructor(
    private readonly client: pg.Client,
    seed: number,
  ) {
    this.random = randomSource(seed);
  }

  async load(): Promise<void> {
    const ids = async (sql: string) => (await this.client.query<{ id: number }>(sql)).rows.map((r) => r.id);
    this.customers = await ids('SELECT customer_id AS id FROM customer ORDER BY 1');
    this.tracks = await ids('SELECT track_id AS id FROM track ORDER BY 1');
    this.invoices = await ids('SELECT invoice_id AS id FROM invoice ORDER BY 1');
    const { rows } = await this.client.query<{ invoice: number; line: number }>(
      'SELECT (SELECT coalesce(max(invoice_id), 0) + 1 FROM invoice) AS invoice, (SELECT coalesce(max(invoice_line_id), 0) + 1 FROM invoice_line) AS line',
    );
    this.nextInvoiceId = rows[0]!.invoice;
    this.nextLineId = rows[0]!.line;
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)]!;
  }

  /** Runs `work` in a transaction; `work` resolves to the rows it changed. */
  private async transaction(work: (c: pg.Client) => Promise<number>): Promise<void> {
    const c = this.client;
    await c.query('BEGIN');
    try {
      const rows = await work(c);
      await c.query('COMMIT');
      this.stats.transactions++;
      this.stats.changes += rows;
    } catch (error) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  /** One randomly chosen everyday transaction. */
  async step(): Promise<void> {
    const r = this.random();
    if (r < 0.4 || this.invoices.length === 0) await this.newInvoice();
    else if (r < 0.6) await this.changeEmail();
    else if (r < 0.8) await this.changeTrackPrice();
    else if (r < 0.92) await this.removeInvoiceLine();
    else await this.cancelInvoice();
  }

  private async newInvoice(): Promise<void> {
    const invoiceId = this.nextInvoiceId++;
    const count = 1 + Math.floor(this.random() * 6);
    const lineIds = Array.from({ length: count }, () => this.nextLineId++);
    const trackIds = lineIds.map(() => this.pick(this.tracks));
    const quantities = lineIds.map(() => (this.random() < 0.9 ? 1 : 2));
    const channel = this.hasSalesChannel ? this.pick(['web', 'app', 'store']) : null;
    await this.transaction(async (c) => {
      const head = await c.query(
        `INSERT INTO invoice (invoice_id, customer_id, invoice_date, billing_address, billing_city, billing_state,
                              billing_country, billing_postal_code, total${this.hasSalesChannel ? ', sales_channel' : ''})
         SELECT $1, customer_id, localtimestamp(0), address, city, state, country, postal_code, 0${this.hasSalesChannel ? ', $3' : ''}
           FROM customer WHERE customer_id = $2`,
        this.hasSalesChannel ? [invoiceId, this.pick(this.customers), channel] : [invoiceId, this.pick(this.customers)],
      );
      const lines = await c.query(
        `INSERT INTO invoice_line (invoice_line_id, invoice_id, track_id, unit_price, quantity)
         SELECT l.id, $1, t.track_id, t.unit_price, l.quantity
           FROM unnest($2::int[], $3::int[], $4::int[]) AS l (id, track_id, quantity) JOIN track t USING (track_id)`,
        [invoiceId, lineIds, trackIds, quantities],
      );
      const total = await this.updateTotal(c, invoiceId);
      return (head.rowCount ?? 0) + (lines.rowCount ?? 0) + total;
    });
    this.invoices.push(invoiceId);
  }

  private async updateTotal(c: pg.Client, invoiceId: number): Promise<number> {
    const r = await c.query(
      `UPDATE invoice SET total = (SELECT coalesce(sum(unit_price * quantity), 0) FROM invoice_line WHERE invoice_id = $1)
        WHERE invoice_id = $1`,
      [invoiceId],
    );
    return r.rowCount ?? 0;
  }

  private async changeEmail(): Promise<void> {
    const customerId = this.pick(this.customers);
    const tag = Math.floor(this.random() * 1e6).toString(36);
    await this.transaction(async (c) => {
      const r = this.hasLoyaltyTier
        ? await c.query(
            `UPDATE customer SET email = left(lower(first_name) || '.' || $2 || '@example.net', 60), loyalty_tier = $3 WHERE customer_id = $1`,
            [customerId, tag, this.pick(['bronze', 'silver', 'gold'])],
          )
        : await c.query(`UPDATE customer SET email = left(lower(first_name) || '.' || $2 || '@example.net', 60) WHERE customer_id = $1`, [
            customerId,
            tag,
          ]);
      return r.rowCount ?? 0;
    });
  }

  private async changeTrackPrice(): Promise<void> {
    const trackId = this.pick(this.tracks);
    const price = this.pick(['0.99', '1.29', '1.49', '1.99']);
    await this.transaction(async (c) => (await c.query('UPDATE track SET unit_price = $2 WHERE track_id = $1', [trackId, price])).rowCount ?? 0);
  }

  private async removeInvoiceLine(): Promise<void> {
    const invoiceId = this.pick(this.invoices);
    await this.transaction(async (c) => {
      const r = await c.query('DELETE FROM invoice_line WHERE invoice_line_id = (SELECT min(invoice_line_id) FROM invoice_line WHERE invoice_id = $1)', [
        invoiceId,
      ]);
      return (r.rowCount ?? 0) + (await this.updateTotal(c, invoiceId));
    });
  }

  private async cancelInvoice(): Promise<void> {
    const index = Math.floor(this.random() * this.invoices.length);
    const invoiceId = this.invoices[index]!;
    await this.transaction(async (c) => {
      const lines = await c.query('DELETE FROM invoice_line WHERE invoice_id = $1', [invoiceId]);
      const head = await c.query('DELETE FROM invoice WHERE invoice_id = $1', [invoiceId]);
      return (lines.rowCount ?? 0) + (head.rowCount ?? 0);
    });
    this.invoices.splice(index, 1);
  }

  /** Schema evolution: customers get a loyalty tier; later e-mail changes set it. */
  async addLoyaltyTier(): Promise<void> {
    await this.client.query('ALTER TABLE customer ADD COLUMN loyalty_tier varchar(10)');
    this.hasLoyaltyTier = true;
    this.stats.schemaChanges++;
  }

  /** Schema evolution: invoices record the sales channel; later invoices carry it. */
  async addSalesChannel(): Promise<void> {
    await this.client.query('ALTER TABLE invoice ADD COLUMN sales_channel text');
    this.hasSalesChannel = true;
    this.stats.schemaChanges++;
  }

  /** A price rise on every MPEG track: thousands of rows in one transaction. */
  async priceRise(): Promise<number> {
    const before = this.stats.changes;
    await this.transaction(async (c) => (await c.query('UPDATE track SET unit_price = unit_price + 0.10 WHERE media_type_id = 1')).rowCount ?? 0);
    return this.stats.changes - before;
  }
}

/**
 * Runs the workload for `seconds` (or until `signal` aborts) at about `ratePerSecond`
 * transactions per second. One-off events happen at fixed points of the run: a column is added
 * to `customer` at 25 %, a price rise updates all MPEG tracks at 50 %, and a column is added to
 * `invoice` at 60 %.
 */
export async function runChinookWorkload(options: WorkloadOptions): Promise<WorkloadStats> {
  const client = new pg.Client({ connectionString: options.url, application_name: 'cdc-merge demo workload' });
  await client.connect();
  try {
    const shop = new Shop(client, options.seed ?? 42);
    await shop.load();
    const events: { at: number; run: () => Promise<string> }[] = [
      {
        at: 0.25,
        run: async () => {
          await shop.addLoyaltyTier();
          return 'ALTER TABLE customer ADD COLUMN loyalty_tier (e-mail changes set it from now on)';
        },
      },
      {
        at: 0.5,
        run: async () => `price rise: UPDATE track … WHERE media_type_id = 1 changed ${await shop.priceRise()} rows in one transaction`,
      },
      {
        at: 0.6,
        run: async () => {
          await shop.addSalesChannel();
          return 'ALTER TABLE invoice ADD COLUMN sales_channel (new invoices set it from now on)';
        },
      },
    ];
    const durationMs = options.seconds * 1000;
    const started = Date.now();
    let done = 0;
    let second = 0;
    for (;;) {
      const elapsed = Date.now() - started;
      if (options.signal?.aborted || elapsed >= durationMs) break;
      for (let event = events[0]; event && elapsed >= event.at * durationMs; event = events[0]) {
        events.shift();
        const message = await event.run();
        options.onEvent?.(message);
      }
      if (Math.floor(elapsed / 1000) > second) {
        second = Math.floor(elapsed / 1000);
        await options.onTick?.(second, shop.stats);
      }
      if (done < (elapsed / 1000) * options.ratePerSecond) {
        await shop.step();
        done++;
      } else {
        await sleep(5);
      }
    }
    const total = Math.round((Date.now() - started) / 1000);
    if (total > second) await options.onTick?.(total, shop.stats);
    return { ...shop.stats };
  } finally {
    await client.end();
  }
}
