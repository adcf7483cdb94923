/**
 * Everything the demo starts registers how to stop it here; stopping runs the steps in reverse
 * order, once, each one even if an earlier one failed. A step added after stopping began runs at
 * once, so a server that finishes starting during Ctrl-C is not left behind.
 */
export class Cleanup {
  private readonly steps: Array<{ name: string; stop: () => Promise<void> | void }> = [];
  private running: Promise<void> | undefined;

  constructor(private readonly log: (line: string) => void) {}

  get stopping(): boolean {
    return this.running !== undefined;
  }

  add(name: string, stop: () => Promise<void> | void): void {
    if (this.running) {
      void this.runStep({ name, stop });
      return;
    }
    this.steps.push({ name, stop });
  }

  run(): Promise<void> {
    this.running ??= (async () => {
      while (this.steps.length > 0) await this.runStep(this.steps.pop()!);
    })();
    return this.running;
  }

  private async runStep(step: { name: string; stop: () => Promise<void> | void }): Promise<void> {
    try {
      await step.stop();
      this.log(`stopped ${step.name}`);
    } catch (err) {
      this.log(`could not stop ${step.name}: ${(err as Error).message}`);
    }
  }
}
