/**
 * Workflow time. Inside the workflow sandbox `Date` is Temporal's deterministic clock (the time of
 * the current workflow task), identical on replay; every workflow reads time through here.
 */
export const workflowNow = (): number => new Date().getTime();
