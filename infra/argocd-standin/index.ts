export { startArgoStandIn, type ArgoStandIn, type ArgoStandInOptions } from './controller.js';
export { type HealthRules, deploymentName } from './health-rules.js';
export { resolveRevision, readOverlayImages, type OverlayImage } from './git-source.js';
