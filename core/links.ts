/**
 * Links to the Temporal UI. Plain string building, so the notify activities, the CLI and the demo
 * all point people at the same page of a workflow without knowing how Temporal is reached.
 */

/** The Temporal UI page of a workflow, when the UI's address is known. */
export function workflowUiUrl(ui: { uiUrl?: string; namespace: string }, workflowId: string): string | undefined {
  if (!ui.uiUrl) return undefined;
  return `${ui.uiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(ui.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
