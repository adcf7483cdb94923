/** Reading what a failed workflow says, for assertions: every failure in its cause chain. */
import { ApplicationFailure } from '@temporalio/common';
import { expect } from 'vitest';

export interface FailureLink {
  name: string;
  type?: string;
  message: string;
}

/** The failure and each cause below it (WorkflowFailedError → ActivityFailure → ApplicationFailure …). */
export function failureChain(err: unknown): FailureLink[] {
  const chain: FailureLink[] = [];
  let current: unknown = err;
  while (current instanceof Error) {
    chain.push({ name: current.name, type: (current as { type?: string }).type, message: current.message });
    current = current.cause;
  }
  return chain;
}

/** The innermost failure that has a type (an ApplicationFailure), or the innermost one. */
export function describeFailure(err: unknown): FailureLink {
  const chain = failureChain(err);
  return [...chain].reverse().find((f) => f.type) ?? chain.at(-1) ?? { name: 'none', message: String(err) };
}

/** The ApplicationFailure an activity call ends with; fails the test when it succeeds or throws anything else. */
export async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await promise.then(
    () => new Error('expected the call to fail, and it succeeded'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

/** What a workflow that must fail says: its whole cause chain in one line (WorkflowFailedError <- … <- ApplicationFailure). */
export async function failureTextOf(result: Promise<unknown>): Promise<string> {
  const err = await result.then(
    () => new Error('expected the workflow to fail, and it succeeded'),
    (e: unknown) => e,
  );
  expect((err as Error).name).toBe('WorkflowFailedError');
  return failureChain(err).map((f) => f.message).join(' <- ');
}
