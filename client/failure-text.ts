/**
 * What a failed workflow says, for a person at a terminal. The client's error for a failed run is
 * always "Workflow execution failed"; the reason lives in its cause chain (ActivityFailure →
 * ApplicationFailure …), and the innermost failure with a type is the one that names it.
 */

export interface FailureReason {
  /** The ApplicationFailure's type (`BackupFailed`), when the chain has one. */
  type?: string;
  message: string;
}

/** The innermost failure with a type in the cause chain, or the innermost failure when none has one. */
export function innermostFailure(err: unknown): FailureReason {
  const chain: Array<{ type?: string; message: string }> = [];
  const seen = new Set<unknown>();
  let current: unknown = err;
  while (current instanceof Error && !seen.has(current)) {
    seen.add(current);
    const type = (current as { type?: unknown }).type;
    chain.push({ type: typeof type === 'string' && type ? type : undefined, message: current.message });
    current = current.cause;
  }
  if (chain.length === 0) return { message: String(err) };
  const typed = [...chain].reverse().find((f) => f.type);
  return typed ?? chain.at(-1)!;
}

/** `BackupFailed: backup of todoapp/production failed while taking the dump: …` */
export function failureText(err: unknown): string {
  const { type, message } = innermostFailure(err);
  return type ? `${type}: ${message}` : message;
}

/**
 * What a workflow or update that failed says about itself, for `release failed: …`: the first
 * failure in the chain that is not a wrapper. A release fails with its own summary ("production:
 * promotion rejected by dave"), which the innermost failure would lose; a failure it did not catch
 * arrives as "Activity task failed" or "Child Workflow execution failed", which says nothing.
 */
export function outcomeFailureText(err: unknown): string {
  const seen = new Set<unknown>();
  let current: unknown = err;
  while (current instanceof Error && isWrapper(current) && current.cause instanceof Error && !seen.has(current)) {
    seen.add(current);
    current = current.cause;
  }
  return current instanceof Error ? current.message : String(current);
}

/** The client's and the SDK's envelopes around the failure that happened. */
const WRAPPERS = new Set(['WorkflowFailedError', 'WorkflowUpdateFailedError', 'ActivityFailure', 'ChildWorkflowFailure']);
function isWrapper(err: Error): boolean {
  return WRAPPERS.has(err.name);
}
