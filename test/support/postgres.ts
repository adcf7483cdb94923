/** A connection to a test's PostgreSQL for one piece of work, closed after it whatever happens. */
import pg from 'pg';

export async function withDb<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/** The rows one statement returns. */
export function queryRows<T extends pg.QueryResultRow = pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  return withDb(url, async (client) => (await client.query<T>(sql)).rows);
}
