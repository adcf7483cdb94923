/**
 * The commit message of an overlay write: a subject a person can scan in `git log --oneline`,
 * the images in the body, and trailers that tie the commit to the release that made it.
 */
import { describeImages, type ImageSetting } from '../../core/images.js';
import type { CommitContext } from '../types.js';

export function shortCommit(sha: string): string {
  return /^[0-9a-f]{8,40}$/i.test(sha) ? sha.slice(0, 7) : sha;
}

export function commitMessage(context: CommitContext, images: ImageSetting[]): string {
  const version = context.version ? ` (${context.version})` : '';
  const source = shortCommit(context.sourceCommit);
  const subject =
    context.kind === 'rollback'
      ? context.undo
        ? `rollback ${context.app} in ${context.environment}: undo ${source}${version}, previous images back`
        : `rollback ${context.app} in ${context.environment} to ${source}${version}`
      : `promote ${context.app} to ${context.environment}: ${source}${version}`;
  const trailers = [
    `Slipway-Release: ${context.releaseId}`,
    `Slipway-App: ${context.app}`,
    `Slipway-Environment: ${context.environment}`,
    ...(context.version ? [`Slipway-Version: ${context.version}`] : []),
    `Slipway-Source-Commit: ${context.sourceCommit}`,
    `Slipway-Kind: ${context.kind}${context.undo ? ' (undo)' : ''}`,
  ];
  return `${oneLine(subject)}\n\n${describeImages(images)}\n\n${trailers.map(oneLine).join('\n')}\n`;
}

/** Inputs come from people and webhooks: a newline must not forge a trailer or a subject. */
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}
