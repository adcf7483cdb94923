/** The Temporal CLI, pinned to v1.5.1: the newest tag whose go.mod has no replace lines, so `go install` works. */
import { ensureGoTool } from '../tools.js';

export const TEMPORAL_CLI_VERSION = 'v1.5.1';

export function temporalCliPath(): string {
  return ensureGoTool({
    name: 'temporal-cli',
    goPackage: 'github.com/temporalio/cli/cmd/temporal',
    version: TEMPORAL_CLI_VERSION,
    binary: 'temporal',
    envVar: 'SLIPWAY_TEMPORAL_CLI',
    usePath: true,
  });
}
