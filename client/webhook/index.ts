/** The tag-push webhook server and its pieces. */
export { createWebhookServer, type WebhookServerOptions } from './server.js';
export { startReleaseViaTemporal, tagReleaseInput, type StartRelease } from './start-release.js';
export { decidePush, PayloadError, type TagRelease, type PushDecision } from './tag-push.js';
