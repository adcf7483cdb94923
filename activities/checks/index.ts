/** Checks run after a promotion: HTTP probes and metric queries (soak times are durable timers in the workflow). */
import type { CheckActivities } from '../types.js';
import { httpCheck } from './http-check.js';
import { metricCheck } from './metric-check.js';

export function createCheckActivities(): CheckActivities {
  return { httpCheck, metricCheck };
}
