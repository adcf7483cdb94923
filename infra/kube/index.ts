export { startKubeApiServer, type KubeApiServer, type StartKubeApiServerOptions } from './server.js';
export { ARGO_GROUP, ARGO_VERSION, ARGO_APPLICATIONS, applicationCrd, installApplicationCrd } from './argocd-crd.js';
export { groupAlive } from './process-group.js';
export { DENY_REASON } from './authz-webhook.js';
export { apiextensionsApiserverPath } from './binaries.js';
