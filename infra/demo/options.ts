/** The demo's command line: `--once` to exit after the two releases, `--state-dir` to choose where its files go. */
export interface DemoOptions {
  /** Exit after both releases instead of keeping the stack up until Ctrl-C. */
  once: boolean;
  /** Where the GitOps repo, the generated slipway.yaml, kubeconfig and logs go (fresh temp dir when omitted). */
  stateDir?: string;
  /** Soak time of the staging checks, as a slipway.yaml duration. */
  soak: string;
  help: boolean;
}

export const DEMO_USAGE = `usage: npm start -- [--once] [--state-dir <dir>] [--soak <duration>]
  --once              run both releases, then stop everything and exit (exit code 0 when both went as expected)
  --state-dir <dir>   keep the demo's files here (must be empty or absent); a fresh temp dir by default
  --soak <duration>   staging soak time (default 3s)`;

export class DemoUsageError extends Error {}

export function parseDemoArgs(argv: string[]): DemoOptions {
  const options: DemoOptions = { once: false, soak: '3s', help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new DemoUsageError(`${arg} needs a value`);
      return v;
    };
    if (arg === '--once') options.once = true;
    else if (arg === '--state-dir') options.stateDir = value();
    else if (arg === '--soak') options.soak = value();
    else if (arg === '--help' || arg === '-h') options.help = true;
    else throw new DemoUsageError(`unknown argument "${arg}"`);
  }
  return options;
}
