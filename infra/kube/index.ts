export { startKubeApiServer, type KubeApiServer, type StartKubeApiServerOptions } from './server.js';
export { applicationCrd, installApplicationCrd } from './argocd-crd.js';
export { groupAlive } from './process-group.js';
export { DENY_REASON } from './authz-webhook.js';
export { apiextensionsApiserverPath } from './binaries.js';
