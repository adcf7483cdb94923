/** Reading a Dockerfile's stages and what its COPY/ADD lines take from the build context, for static checks. */

export interface Stage {
  from: string;
  name?: string;
  lines: string[];
}

/** The stages in order, each with its instructions (continuations joined, comments dropped). */
export function dockerStages(text: string): Stage[] {
  const stages: Stage[] = [];
  const logical = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  for (const line of logical) {
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) stages.push({ from: from[1]!, name: from[2], lines: [] });
    else stages.at(-1)?.lines.push(line);
  }
  return stages;
}

export interface CopyLine {
  line: string;
  /** The stage copied from (`--from=`), or undefined for the build context. */
  fromStage?: string;
  sources: string[];
  destination: string;
}

/** Every COPY and ADD of a stage, in the shell form (`COPY a b ./`) or the JSON form (`COPY ["a", "./"]`). */
export function copyLines(stage: Stage): CopyLine[] {
  return stage.lines
    .filter((line) => /^(COPY|ADD)\s/i.test(line))
    .map((line) => {
      const rest = line.replace(/^(COPY|ADD)\s+/i, '');
      const words = rest.split(/\s+/);
      const flags = words.filter((w) => w.startsWith('--'));
      const argsText = words.filter((w) => !w.startsWith('--')).join(' ');
      const args = argsText.startsWith('[') ? (JSON.parse(argsText) as string[]) : argsText.split(' ');
      const fromStage = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
      return { line, fromStage, sources: args.slice(0, -1), destination: args.at(-1)! };
    });
}
