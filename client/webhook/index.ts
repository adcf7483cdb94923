/** The GitHub webhook server and its pieces. */
export { createWebhookServer, type WebhookServerOptions } from './server.js';
export { createdTagViaTemporal, pushReleaseInput, pushReleaseWorkflowId, startReleaseViaTemporal, type StartRelease } from './start-release.js';
export { decidePush, releaseVersion, withoutOwnTags, PayloadError, type BranchRelease, type CreatedTagLookup, type PushDecision, type PushRelease, type TagRelease } from './tag-push.js';
export { decideComment, githubAnswer, replyText, type CommentDecision, type CommentEvent, type CommentTarget, type DecisionOutcome } from './comment-command.js';
export { relayComment, sendDecisionViaTemporal, type SendDecision } from './approval-relay.js';
export { createGithubClient, githubFromEnv } from './github.js';
export { decidePullRequestEvent, PULL_REQUEST_EVENTS, type PullRequestDecision, type WakeTarget } from './pull-request-event.js';
export { previewEventViaTemporal, wakePromotionsViaTemporal, type PreviewEvent, type WakePromotions } from './wake-promotions.js';
