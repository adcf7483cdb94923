/** What a Prometheus instant-query answer means for a metric check, as plain code: one value, no data, or a query that cannot give one. */
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { answerOf } from '../../activities/checks/prometheus-query.js';

const sample = (value: string, metric: Record<string, string> = {}) => ({ metric, value: [1_700_000_000.5, value] });

function refusal(data: Parameters<typeof answerOf>[0]): ApplicationFailure {
  try {
    answerOf(data, 'the query');
  } catch (err) {
    expect(err).toBeInstanceOf(ApplicationFailure);
    return err as ApplicationFailure;
  }
  throw new Error('expected the answer to be refused');
}

describe('metric query answers', () => {
  it('reads one sample of a vector, a scalar, and the special values Prometheus writes', () => {
    expect(answerOf({ resultType: 'vector', result: [sample('0.25', { app: 'shop' })] }, 'q')).toEqual({ kind: 'value', value: 0.25 });
    expect(answerOf({ resultType: 'scalar', result: [1_700_000_000.5, '3'] }, 'q')).toEqual({ kind: 'value', value: 3 });
    expect(answerOf({ resultType: 'vector', result: [sample('+Inf')] }, 'q')).toEqual({ kind: 'value', value: Infinity });
    expect(answerOf({ resultType: 'vector', result: [sample('-Inf')] }, 'q')).toEqual({ kind: 'value', value: -Infinity });
    expect(answerOf({ resultType: 'vector', result: [sample('NaN')] }, 'q')).toEqual({ kind: 'value', value: NaN });
  });

  it('takes an empty vector for no data', () => {
    expect(answerOf({ resultType: 'vector', result: [] }, 'q')).toEqual({ kind: 'no-data' });
  });

  it('refuses, naming the query, several series (showing three of them) and anything but an instant value', () => {
    const many = refusal({ resultType: 'vector', result: [sample('1', { v: 'a' }), sample('2', { v: 'b' }), sample('3', { v: 'c' }), sample('4', { v: 'd' })] });
    expect(many.type).toBe('MetricQueryInvalid');
    expect(many.nonRetryable).toBe(true);
    expect(many.message).toBe('the query returned 4 series ({v="a"}, {v="b"}, {v="c"}, …); a metric check needs one value: aggregate it, e.g. sum(…) or max(…); query: the query');
    expect(refusal({ resultType: 'matrix', result: [] }).message).toMatch(/^the query returned a range vector; a metric check needs one value .*; query: the query$/);
    expect(refusal({ resultType: 'string', result: [0, 'x'] }).message).toMatch(/^the query returned a string;/);
  });
});
