/** versitygw, the S3-compatible server the object-store backup tests run against; pinned like the other Go-built tools. */
import { ensureGoTool } from '../tools.js';

export const VERSITYGW_VERSION = 'v1.8.0';

export function versitygwPath(): string {
  return ensureGoTool({
    name: 'versitygw',
    goPackage: 'github.com/versity/versitygw/cmd/versitygw',
    version: VERSITYGW_VERSION,
    binary: 'versitygw',
    envVar: 'SLIPWAY_VERSITYGW',
    // The tests claim behaviour of this version: another versitygw on PATH is not used.
    usePath: false,
  });
}
