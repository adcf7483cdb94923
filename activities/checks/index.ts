/** Checks run after a promotion: HTTP probes (soak times are durable timers in the workflow). */
import type { CheckActivities } from '../types.js';
import { httpCheck } from './http-check.js';

export function createCheckActivities(): CheckActivities {
  return { httpCheck };
}
