/** Where Argo CD's Application resource lives in the Kubernetes API. */
export const ARGO_GROUP = 'argoproj.io';
export const ARGO_VERSION = 'v1alpha1';
export const ARGO_APPLICATIONS = 'applications';
