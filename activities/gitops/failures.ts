/**
 * Turning what went wrong into the ApplicationFailures workflows rely on (see FailureType).
 * Messages are redacted before they get here; no cause is attached, so no unredacted text can
 * reach workflow history through a cause chain.
 */
import { ApplicationFailure } from '@temporalio/common';
import { OverlayError } from '../../core/overlay.js';
import { FailureType } from '../types.js';
import { classifyGitFailure } from './classify.js';
import { CloneSpaceExhaustedError } from './clone-root.js';
import { GitCommandError, GitStoppedError } from './git.js';
import { KustomizeNotFoundError } from './kustomize.js';
import { MissingTokenError } from './remote.js';

/** The overlay folder or its kustomization file is not on the branch. */
export class OverlayNotFoundError extends Error {
  constructor(readonly overlay: string, detail: string) {
    super(detail);
    this.name = 'OverlayNotFoundError';
  }
}

/** The edited overlay failed its check before commit (it does not render, or is not the intended change). */
export class OverlayEditInvalidError extends Error {
  override name = 'OverlayEditInvalidError';
  constructor(readonly file: string, detail: string) {
    super(`${file}: ${detail}; nothing was committed`);
  }
}

/** The input cannot work whatever the repository holds (e.g. an overlay path outside it). */
export class InvalidGitopsInputError extends Error {
  override name = 'InvalidGitopsInputError';
}

export class PushConflictError extends Error {
  override name = 'PushConflictError';
}

/** The overlay no longer holds what the promotion wrote: someone else changed it; nothing was written. */
export class RollbackConflictError extends Error {
  override name = 'RollbackConflictError';
}

/** A later step of the environment is already on the branch: this attempt is late (see step-fence.ts). */
export class StaleWriteError extends Error {
  override name = 'StaleWriteError';
}

export function toApplicationFailure(err: unknown, where: string, redact: (text: string) => string): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  const message = (text: string) => redact(`${where}: ${text}`);
  if (err instanceof OverlayError && err.reason === 'edit-invalid') {
    return ApplicationFailure.create({ message: message(`${err.message}; nothing was committed`), type: FailureType.OverlayEditInvalid, nonRetryable: true });
  }
  if (err instanceof OverlayError) {
    return ApplicationFailure.create({ message: message(err.message), type: FailureType.InvalidOverlay, nonRetryable: true });
  }
  if (err instanceof OverlayEditInvalidError) {
    return ApplicationFailure.create({ message: message(err.message), type: FailureType.OverlayEditInvalid, nonRetryable: true });
  }
  if (err instanceof KustomizeNotFoundError) {
    return ApplicationFailure.create({ message: message(err.message), type: FailureType.KustomizeNotFound, nonRetryable: true });
  }
  if (err instanceof OverlayNotFoundError) {
    return ApplicationFailure.create({ message: message(err.message), type: FailureType.OverlayNotFound, nonRetryable: true });
  }
  if (err instanceof InvalidGitopsInputError || err instanceof MissingTokenError) {
    return ApplicationFailure.create({ message: message(err.message), type: FailureType.InvalidConfig, nonRetryable: true });
  }
  if (err instanceof RollbackConflictError) {
    return ApplicationFailure.create({ message: message(err.message), type: FailureType.RollbackConflict, nonRetryable: true });
  }
  if (err instanceof StaleWriteError) {
    return ApplicationFailure.create({ message: message(err.message), type: FailureType.StaleWrite, nonRetryable: true });
  }
  if (err instanceof GitStoppedError || err instanceof CloneSpaceExhaustedError) {
    return ApplicationFailure.create({ message: message(err.message), type: FailureType.GitUnavailable, nonRetryable: false });
  }
  if (err instanceof PushConflictError) {
    return ApplicationFailure.create({ message: message(err.message), type: FailureType.GitPushConflict, nonRetryable: false });
  }
  if (err instanceof GitCommandError) {
    switch (classifyGitFailure(err.output)) {
      case 'permission':
        return ApplicationFailure.create({ message: message(err.message), type: FailureType.GitPermissionDenied, nonRetryable: true });
      case 'no-branch':
      case 'no-repository':
        return ApplicationFailure.create({ message: message(err.message), type: FailureType.InvalidConfig, nonRetryable: true });
      case 'conflict':
        return ApplicationFailure.create({ message: message(err.message), type: FailureType.GitPushConflict, nonRetryable: false });
      default:
        return ApplicationFailure.create({ message: message(err.message), type: 'GitCommandFailed', nonRetryable: false });
    }
  }
  const text = err instanceof Error ? err.message : String(err);
  return ApplicationFailure.create({ message: message(text), type: 'GitopsError', nonRetryable: false });
}
