/**
 * The commit messages of preview writes: a subject naming the pull request (`preview todoapp#12:
 * 3f2a9c1`), what the preview holds in the body, and trailers tying the commit to it. There is no
 * `Slipway-Environment` trailer: a preview is no environment, and the step fence of environment
 * writes (step-fence.ts) must not read these commits as steps of one.
 */
import { describeImages, type ImageSetting } from '../../core/images.js';
import type { PreviewPullRequest } from '../types.js';
import { shortCommit } from './commit-message.js';

export interface PreviewWriteMessage {
  pullRequest: PreviewPullRequest;
  headSha: string;
  releaseId?: string;
  path: string;
  template: string;
  namespace: string;
  images: ImageSetting[];
}

export function previewCommitMessage(m: PreviewWriteMessage): string {
  const { app, number } = m.pullRequest;
  const body = [
    ...(m.images.length > 0 ? [describeImages(m.images)] : []),
    `${m.path}, from ${m.template}, in namespace ${m.namespace}`,
  ];
  const trailers = [
    `Slipway-App: ${app}`,
    `Slipway-Preview: ${number}`,
    `Slipway-Source-Commit: ${m.headSha}`,
    ...(m.releaseId ? [`Slipway-Release: ${m.releaseId}`] : []),
  ];
  return message(`preview ${app}#${number}: ${shortCommit(m.headSha)}`, body, trailers);
}

export function previewRemovalMessage(pullRequest: PreviewPullRequest, path: string): string {
  const { app, number } = pullRequest;
  return message(`preview ${app}#${number}: removed`, [`${path}: the preview's folder, removed`], [`Slipway-App: ${app}`, `Slipway-Preview: ${number}`]);
}

function message(subject: string, body: string[], trailers: string[]): string {
  return `${oneLine(subject)}\n\n${body.map(oneLine).join('\n')}\n\n${trailers.map(oneLine).join('\n')}\n`;
}

/** Inputs come from webhooks: a newline must not forge a trailer or a subject. */
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}
