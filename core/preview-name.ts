/**
 * The name of a pull request's preview — its overlay folder's last segment, its namespace, its
 * Argo CD Application's suffix — from the policy's pattern (`pr-{number}`, `{app}-pr-{number}`).
 * Kubernetes takes a namespace only as a DNS-1123 label, so a pattern that cannot give one is an
 * error naming the pattern and the name it gave, before anything is created under it.
 */

/** A name, namespace or pattern that cannot be a preview's; nothing was produced. */
export class PreviewInputError extends Error {
  override name = 'PreviewInputError';
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const PLACEHOLDER = /\{([^{}]*)\}/g;
const KNOWN = new Set(['number', 'app']);

/** Why `value` is not a DNS-1123 label (what a namespace and many Kubernetes names must be), or undefined. */
export function dnsLabelProblem(value: string): string | undefined {
  if (value.length === 0) return 'is empty';
  if (value.length > 63) return `is ${value.length} characters long, more than the 63 of a DNS-1123 label`;
  if (!DNS_LABEL.test(value)) return 'is not a DNS-1123 label (lowercase letters, digits and "-", starting and ending with a letter or digit)';
  return undefined;
}

/**
 * What is wrong with a pattern whatever the pull request (for validating the policy when it is
 * loaded), or undefined. Without `{number}` every pull request of an app would share one preview.
 */
export function previewPatternProblem(pattern: string): string | undefined {
  const unknown = [...pattern.matchAll(PLACEHOLDER)].map((m) => m[1]!).filter((name) => !KNOWN.has(name));
  if (unknown.length > 0) return `has ${unknown.map((n) => `{${n}}`).join(', ')}; only {number} and {app} are known`;
  if (/[{}]/.test(pattern.replace(PLACEHOLDER, ''))) return 'has an unmatched { or }';
  if (!pattern.includes('{number}')) return 'has no {number}: every pull request would get the same preview';
  return undefined;
}

/** The preview name of pull request `number` of `app`; throws a PreviewInputError when the pattern or the name it gives is not fit. */
export function previewName(pattern: string, pr: { number: number; app: string }): string {
  const patternProblem = previewPatternProblem(pattern);
  if (patternProblem) throw new PreviewInputError(`the preview name pattern "${pattern}" ${patternProblem}`);
  if (!Number.isSafeInteger(pr.number) || pr.number <= 0) throw new PreviewInputError(`a pull request number must be a positive whole number, got ${pr.number}`);
  const name = pattern.replace(PLACEHOLDER, (_, key: string) => (key === 'number' ? String(pr.number) : pr.app));
  const problem = dnsLabelProblem(name);
  if (problem) throw new PreviewInputError(`the preview name pattern "${pattern}" gives "${name}" for pull request #${pr.number} of ${pr.app}, which ${problem}`);
  return name;
}

/** The folder previews' folders go in: `path`, else `previews` beside the template. */
export function previewParent(previews: { template: string; path?: string }): string {
  const beside = previews.template.replace(/\/+$/, '').split('/').slice(0, -1).join('/');
  return (previews.path ?? (beside ? `${beside}/previews` : 'previews')).replace(/\/+$/, '');
}
