/** Exit codes of the slipway CLI: 0 success, 1 the operation failed, 2 usage or config error. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export class CliExit extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}
