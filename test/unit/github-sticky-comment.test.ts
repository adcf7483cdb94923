/**
 * Tier: unit (no servers). The sticky comment's pure parts (activities/github/sticky-comment.ts),
 * on GitHub's own example issue comment from its OpenAPI description: which listed comment is ours,
 * the body as posted, and the inputs refused before anything is sent. The requests themselves are
 * in test/integration/github-sticky-comment.test.ts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { commentInputProblem, findMarkedComment, markedBody, markerLine, type CommentPayload } from '../../activities/github/sticky-comment.js';
import { githubOpenApiSpec } from '../../infra/github-mock/prism.js';

const examples = (JSON.parse(readFileSync(githubOpenApiSpec(), 'utf8')) as { components: { examples: Record<string, { value: unknown }> } }).components.examples;
/** GitHub's example comment (id 1, "Me too", 2011-04-14), with another id, body and time. */
const comment = (id: number, body: string, createdAt = '2011-04-14T16:00:49Z'): CommentPayload => ({
  ...(structuredClone((examples['issue-comment-items']!.value as CommentPayload[])[0]!) as CommentPayload),
  id,
  body,
  created_at: createdAt,
});
const MARKER = 'preview/todoapp';

describe('findMarkedComment', () => {
  it('finds the comment holding the marker line among others', () => {
    const ours = comment(7, markedBody('Preview: https://pr-12.example.com', MARKER));
    expect(findMarkedComment([comment(1, 'Me too'), ours, comment(9, 'LGTM')], MARKER)).toBe(ours);
  });

  it('finds none when no comment has it, or only a longer marker or the marker inside other text', () => {
    expect(findMarkedComment([], MARKER)).toBeUndefined();
    expect(findMarkedComment([comment(1, 'Me too'), { ...comment(2, ''), body: null }], MARKER)).toBeUndefined();
    expect(findMarkedComment([comment(3, markedBody('x', `${MARKER}/other`))], MARKER)).toBeUndefined();
    expect(findMarkedComment([comment(4, `quoting ${markerLine(MARKER)} inline`)], MARKER)).toBeUndefined();
  });

  it('finds a marker line written with CRLF or surrounding spaces, as an edit in the browser may leave it', () => {
    const edited = comment(5, `Preview moved\r\n\r\n  ${markerLine(MARKER)}  \r\n`);
    expect(findMarkedComment([edited], MARKER)).toBe(edited);
  });

  it('prefers the newest of several marked comments, by time and then by id', () => {
    const older = comment(10, markedBody('old', MARKER), '2024-01-01T00:00:00Z');
    const newer = comment(8, markedBody('new', MARKER), '2024-02-01T00:00:00Z');
    const sameTimeHigherId = comment(11, markedBody('also old', MARKER), '2024-01-01T00:00:00Z');
    expect(findMarkedComment([older, newer, sameTimeHigherId], MARKER)).toBe(newer);
    expect(findMarkedComment([older, sameTimeHigherId], MARKER)).toBe(sameTimeHigherId);
  });
});

describe('markedBody', () => {
  it('appends the marker after a blank line, once, whatever whitespace the body ends with', () => {
    expect(markedBody('Preview: https://pr-12.example.com\n\n', MARKER)).toBe('Preview: https://pr-12.example.com\n\n<!-- slipway:preview/todoapp -->');
    expect(findMarkedComment([comment(1, markedBody('x', MARKER))], MARKER)?.id).toBe(1);
  });
});

describe('commentInputProblem', () => {
  it('accepts markers of letters, digits and : / . _ -', () => {
    expect(commentInputProblem({ marker: 'preview/todo-app_2:v1.2', body: 'x', number: 12 })).toBeUndefined();
  });

  it('refuses markers that could end the HTML comment or hold spaces, another marker in the body, bad numbers and bodies GitHub refuses', () => {
    for (const marker of ['', 'a -->', 'a b', 'pré', '<x>', 'a\nb']) expect(commentInputProblem({ marker, body: 'x', number: 12 })).toContain('may hold only');
    expect(commentInputProblem({ marker: MARKER, body: `x ${markerLine('other')}`, number: 12 })).toContain('marker of its own');
    expect(commentInputProblem({ marker: MARKER, body: 'x', number: 0 })).toContain('expected a pull request number');
    expect(commentInputProblem({ marker: MARKER, body: 'x'.repeat(65_536), number: 12 })).toContain('longer than');
  });
});
