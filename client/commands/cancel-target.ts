/**
 * What `slipway cancel` may stop: a release (`release/<app>/<commit or tag>`, the CLI's
 * `promote/…` and `rollback/…`) or one promotion an environment runs (`promotion/<app>/<env>/…`).
 * Each of those is answered or rolled back when cancelled. Anything else is refused: an
 * environment workflow (`env/<app>/<env>`) holds the environment's queue and deployment history,
 * and releases wait on it; a backup schedule's runs are `slipway schedules …`'s.
 */
const APP = '[a-z0-9](?:[a-z0-9-]*[a-z0-9])?';
const REST = '[^/\\s]+';

const CANCELLABLE: ReadonlyArray<{ shape: RegExp; type: string }> = [
  { shape: new RegExp(`^release/${APP}/${REST}$`), type: 'release' },
  { shape: new RegExp(`^promote/${APP}/${APP}/${REST}$`), type: 'release' },
  { shape: new RegExp(`^rollback/${APP}/${APP}/${REST}$`), type: 'release' },
  { shape: new RegExp(`^promotion/${APP}/${APP}/${REST}$`), type: 'promotion' },
];

export const CANCEL_TAKES =
  'cancel takes a release, promotion or rollback id: release/<app>/<commit or tag>, promote/<app>/<env>/…, rollback/<app>/<env>/… or promotion/<app>/<env>/…';

/** The workflow type an id that `cancel` takes must have, or why the id is refused. */
export function cancelTarget(workflowId: string): { ok: true; workflowType: string } | { ok: false; problem: string } {
  const match = CANCELLABLE.find((c) => c.shape.test(workflowId));
  if (match) return { ok: true, workflowType: match.type };
  const why = workflowId.startsWith('env/')
    ? ': that is an environment workflow, which keeps the environment\'s queue and deployment history and must keep running (cancel the release waiting there instead)'
    : workflowId.startsWith('backup/')
      ? ': that is a backup (see slipway schedules)'
      : '';
  return { ok: false, problem: `error: ${CANCEL_TAKES}; "${workflowId}" is none of these${why}` };
}
