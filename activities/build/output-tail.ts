/** The last lines of a process's output, kept in bounded memory however much it prints. */
export interface TailRedactor {
  redact(text: string): string;
  /** How much of a cut-off first line may still hold part of a secret (see OutputRedactor.span). */
  readonly span: number;
}

export class OutputTail {
  private text = '';
  private cut = false;
  constructor(private readonly maxChars = 16_384) {}

  push(chunk: Buffer | string): void {
    this.text += chunk.toString();
    if (this.text.length > this.maxChars * 2) {
      this.text = this.text.slice(-this.maxChars);
      this.cut = true;
    }
  }

  /**
   * The last `count` lines. With a redactor, the text is redacted whole before it is cut to size,
   * so no secret is split by the cut; and when older output was dropped, the first kept line may
   * begin inside a secret the redactor can then not recognise — that partial line is dropped too
   * (or, if it is very long, its first `span` characters).
   */
  lastLines(count: number, redactor?: TailRedactor): string {
    let text = this.text;
    if (redactor) {
      text = redactor.redact(text);
      if (this.cut) {
        const newline = text.indexOf('\n');
        text = text.slice(newline >= 0 && newline < redactor.span ? newline + 1 : redactor.span);
      }
    }
    const lines = text.slice(-this.maxChars).split('\n');
    if (lines.at(-1) === '') lines.pop();
    return lines.slice(-count).join('\n');
  }
}
