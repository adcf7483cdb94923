/** The last lines of a process's output, kept in bounded memory however much it prints. */
export class OutputTail {
  private text = '';
  constructor(private readonly maxChars = 16_384) {}

  push(chunk: Buffer | string): void {
    this.text += chunk.toString();
    if (this.text.length > this.maxChars * 2) this.text = this.text.slice(-this.maxChars);
  }

  lastLines(count: number): string {
    const lines = this.text.slice(-this.maxChars).split('\n');
    if (lines.at(-1) === '') lines.pop();
    return lines.slice(-count).join('\n');
  }
}
