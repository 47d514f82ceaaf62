/**
 * Runs SQL text (one or several statements) on the database at `url` over a connection of its
 * own, closed afterwards: the tests' way to change a source between runs.
 * @throws {Error} PostgreSQL's error for the text.
 */
import pg from 'pg';

export async function sql(url: string, text: string): Promise<void> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}
