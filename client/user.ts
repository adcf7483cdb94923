/** Who is running the CLI, for approvals and the audit trail: SLIPWAY_USER, else the OS user. */
import { userInfo } from 'node:os';

export function whoAmI(): string {
  if (process.env.SLIPWAY_USER) return process.env.SLIPWAY_USER;
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
