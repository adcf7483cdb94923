export { createControlActivities } from './request-promotion.js';
