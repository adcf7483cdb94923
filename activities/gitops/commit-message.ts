/**
 * The commit message of an overlay write: a subject a person can scan in `git log --oneline`,
 * the images in the body, and trailers that tie the commit to the release that made it.
 */
import { describeImages, type ImageSetting } from '../../core/images.js';
import type { CommitContext } from '../types.js';
import { stepTrailer } from './step-fence.js';

export function shortCommit(sha: string): string {
  return /^[0-9a-f]{8,40}$/i.test(sha) ? sha.slice(0, 7) : sha;
}

interface Build {
  commit: string;
  version?: string;
}

/**
 * `Slipway-Source-Commit` / `Slipway-Version` always name the build whose images the overlay holds
 * after this commit, so a tool reading them as "what is deployed" is right for rollbacks too; the
 * build a rollback replaced is in `Slipway-Undoes-Commit` / `Slipway-Undoes-Version`. An undo whose
 * caller does not say which build it puts back carries no source trailers rather than a wrong one.
 */
export function commitMessage(context: CommitContext, images: ImageSetting[], options: { unchanged?: boolean } = {}): string {
  const build: Build = { commit: context.sourceCommit, version: context.version };
  const rollback = context.kind === 'rollback';
  // An undo writes the images from before `sourceCommit`; a rollback --to writes `sourceCommit`'s.
  const deployed = rollback && context.undo ? context.counterpart : build;
  const undone = rollback ? (context.undo ? build : context.counterpart) : undefined;
  const subject = !rollback
    ? `promote ${context.app} to ${context.environment}: ${label(build)}`
    : context.undo
      ? `rollback ${context.app} in ${context.environment}: undo ${label(build)}, ${deployed ? `back to ${label(deployed)}` : 'previous images back'}`
      : `rollback ${context.app} in ${context.environment} to ${label(build)}${undone ? `, replacing ${label(undone)}` : ''}`;
  const trailers = [
    `Slipway-Release: ${context.releaseId}`,
    `Slipway-App: ${context.app}`,
    `Slipway-Environment: ${context.environment}`,
    ...(deployed ? [...(deployed.version ? [`Slipway-Version: ${deployed.version}`] : []), `Slipway-Source-Commit: ${deployed.commit}`] : []),
    ...(undone ? [...(undone.version ? [`Slipway-Undoes-Version: ${undone.version}`] : []), `Slipway-Undoes-Commit: ${undone.commit}`] : []),
    `Slipway-Kind: ${context.kind}${context.undo ? ' (undo)' : ''}`,
    ...(context.step ? [stepTrailer(context.step)] : []),
  ];
  // An empty commit marking a step whose images were already in place (see step-fence.ts).
  const marked = options.unchanged ? `${subject} (already in place)` : subject;
  return `${oneLine(marked)}\n\n${describeImages(images)}\n\n${trailers.map(oneLine).join('\n')}\n`;
}

function label(build: Build): string {
  return `${shortCommit(build.commit)}${build.version ? ` (${build.version})` : ''}`;
}

/** Inputs come from people and webhooks: a newline must not forge a trailer or a subject. */
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}
