/**
 * Reading every workflow history in a namespace as text, for scans that look for secrets.
 * Payloads (inputs, results, signals, search attributes, memos, failure details) are bytes in the
 * history; they are decoded as UTF-8 so a JSON-encoded secret shows up as the text it is.
 */
import type { Client } from '@temporalio/client';

export interface ScannedHistory {
  workflowId: string;
  runId: string;
  text: string;
}

/** Every string and every decoded byte array in a history object, one per line. */
export function historyText(value: unknown, out: string[] = []): string[] {
  if (value === null || value === undefined) return out;
  if (typeof value === 'string') out.push(value);
  else if (value instanceof Uint8Array) out.push(Buffer.from(value).toString('utf8'));
  else if (Array.isArray(value)) for (const item of value) historyText(item, out);
  else if (typeof value === 'object') for (const item of Object.values(value)) historyText(item, out);
  return out;
}

/** Lists all workflows in the client's namespace (any task queue, any state) and fetches each history. */
export async function scanAllHistories(client: Client): Promise<ScannedHistory[]> {
  const scanned: ScannedHistory[] = [];
  for await (const execution of client.workflow.list()) {
    const history = await client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
    scanned.push({ workflowId: execution.workflowId, runId: execution.runId, text: historyText(history).join('\n') });
  }
  return scanned;
}

/** Shapes of credentials, whoever's they are: a GitHub token, a URL with a password, a webhook secret. */
export const SECRET_SHAPES: Array<{ name: string; pattern: RegExp }> = [
  { name: 'GitHub token', pattern: /\bgh[pousr]_[A-Za-z0-9]{16,}/ },
  { name: 'URL with a password', pattern: /\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@'"]+:[^\s/@'"]+@/i },
  { name: 'webhook secret', pattern: /\/api\/webhooks\/\d+\/[A-Za-z0-9_-]{16,}/ },
  { name: 'HTTP basic/bearer credential', pattern: /authorization:\s*(basic|bearer)\s+[A-Za-z0-9+/=._-]{8,}/i },
];
