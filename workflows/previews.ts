/**
 * The previews of one app (`previews/todoapp`), long-lived: the webhook hands it each pull request
 * event of the app's source repository (signal-with-start), and it starts, wakes or asks to go the
 * pull requests' previews (`preview/todoapp/12`) so that at most `previews.max` are up
 * (preview-board.ts). A preview that ends tells it, and the first pull request waiting takes the
 * place. Previews run on their own (a continue-as-new here leaves them running).
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  ParentClosePolicy,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { previewWorkflowId } from '../core/ids.js';
import { SA_APP } from '../core/search-attributes.js';
import { workflowNow } from './clock.js';
import { previewEndedSignal, previewEventSignal, previewRemoveSignal, previewsStateQuery, previewWakeSignal } from './messages.js';
import { releasePolicy } from './policy.js';
import { preview } from './preview.js';
import { PreviewBoard, type BoardStep, type PreviewAction, type PreviewRules } from './preview-board.js';
import type { PreviewsWorkflowInput } from './types.js';

const ACTIONS: PreviewAction[] = ['opened', 'reopened', 'synchronize', 'closed'];
/** Events handled before this run hands over to a new one. */
const EVENTS_PER_RUN = 500;

type Message = { kind: 'event'; number: number; action: PreviewAction } | { kind: 'ended'; number: number };

export async function previews({ app, carried }: PreviewsWorkflowInput): Promise<void> {
  const board = new PreviewBoard(carried);
  const inbox: Message[] = [];
  let handled = 0;
  // Anyone who reaches the Temporal API can signal: what is not an event is dropped.
  setHandler(previewEventSignal, (e) => {
    if (Number.isSafeInteger(e?.number) && e.number > 0 && ACTIONS.includes(e.action)) inbox.push({ kind: 'event', number: e.number, action: e.action });
  });
  setHandler(previewEndedSignal, (e) => {
    if (Number.isSafeInteger(e?.number)) inbox.push({ kind: 'ended', number: e.number });
  });
  setHandler(previewsStateQuery, () => board.view());

  for (;;) {
    await condition(() => inbox.length > 0 || handled >= EVENTS_PER_RUN || workflowInfo().continueAsNewSuggested);
    if (inbox.length === 0) {
      await condition(allHandlersFinished);
      if (inbox.length === 0) await continueAsNew<typeof previews>({ app, carried: board.carry() });
      continue;
    }
    let rules: PreviewRules;
    try {
      const { pipeline } = await releasePolicy(app);
      if (!pipeline.appConfig.previews) throw new Error('no previews');
      rules = { max: pipeline.appConfig.previews.max, atMax: pipeline.appConfig.previews.atMax };
    } catch {
      // The app or its previews left the policy: its events mean nothing now; running previews end by themselves.
      inbox.length = 0;
      continue;
    }
    while (inbox.length > 0) {
      const message = inbox.shift()!;
      handled++;
      const steps = message.kind === 'event' ? board.event(message.number, message.action, workflowNow(), rules) : board.ended(message.number, workflowNow(), rules);
      for (const step of steps) await act(step);
    }
  }

  async function act(step: BoardStep): Promise<void> {
    const id = previewWorkflowId(app, step.number);
    if (step.kind === 'start') {
      try {
        await startChild(preview, {
          workflowId: id,
          args: [{ app, number: step.number }],
          taskQueue: workflowInfo().taskQueue,
          parentClosePolicy: ParentClosePolicy.ABANDON,
          staticSummary: `preview of ${app} #${step.number}`,
          typedSearchAttributes: [{ key: SA_APP, value: app }],
        });
      } catch (err) {
        // Already running (a run of this chain before a continue-as-new started it): wake it instead.
        if (err instanceof WorkflowExecutionAlreadyStartedError) await signal(id, 'wake');
        else board.failedToStart(step.number);
      }
    } else if (step.kind === 'wake') await signal(id, 'wake');
    else if (step.kind === 'evict') await signal(id, 'remove', `removed to make room for #${step.for}: the app's previews are at their maximum, and this one was idle longest`);
  }

  async function signal(id: string, what: 'wake' | 'remove', reason = ''): Promise<void> {
    const handle = getExternalWorkflowHandle(id);
    // A preview that ended meanwhile cannot be told; its end signal is on its way here.
    await (what === 'wake' ? handle.signal(previewWakeSignal) : handle.signal(previewRemoveSignal, { reason })).catch(() => undefined);
  }
}
