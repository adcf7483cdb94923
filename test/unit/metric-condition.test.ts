/**
 * A metric check's condition as plain code: what text parses, what it means, and how a miss is
 * worded. Property-based over thresholds, values and spacing (fast-check).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeMiss, formatCondition, formatValue, meets, parseCondition, type Condition } from '../../core/metric-condition.js';

const COMPARISONS = ['<', '<=', '>', '>='] as const;
const finite = fc.double({ noNaN: true, noDefaultInfinity: true });
const spaces = fc.string({ unit: fc.constantFrom(' ', '\t'), maxLength: 3 });
const condition: fc.Arbitrary<Condition> = fc.oneof(
  fc.record({ op: fc.constantFrom(...COMPARISONS), threshold: finite }),
  fc.tuple(finite, finite).map(([a, b]) => ({ op: 'between' as const, low: Math.min(a, b), high: Math.max(a, b) })),
);

function parsed(text: string): Condition {
  const result = parseCondition(text);
  if ('problem' in result) throw new Error(result.problem);
  return result.condition;
}

describe('metric condition', () => {
  it('reads the forms slipway.yaml documents', () => {
    expect(parsed('< 0.01')).toEqual({ op: '<', threshold: 0.01 });
    expect(parsed('<=5')).toEqual({ op: '<=', threshold: 5 });
    expect(parsed('> 0.99')).toEqual({ op: '>', threshold: 0.99 });
    expect(parsed(' >= 1e-3 ')).toEqual({ op: '>=', threshold: 0.001 });
    expect(parsed('between 0.1 and 0.5')).toEqual({ op: 'between', low: 0.1, high: 0.5 });
    expect(parsed('Between -1 AND .5')).toEqual({ op: 'between', low: -1, high: 0.5 });
  });

  it('refuses anything else with a sentence quoting the text', () => {
    for (const text of ['', '0.01', '< ', '<< 0.01', '=< 1', '== 1', '< NaN', '< Infinity', '< 0x10', '< 1 or > 2', 'between 1', 'between 2 and 1', 'between 1 and 2 and 3', '< 1e999']) {
      const result = parseCondition(text);
      expect(result, text).toHaveProperty('problem');
      expect((result as { problem: string }).problem, text).toContain(`"${text}"`);
    }
  });

  it('parses every comparison with any finite threshold written as JavaScript writes numbers, whatever the spacing', () => {
    fc.assert(
      fc.property(fc.constantFrom(...COMPARISONS), finite, spaces, spaces, spaces, (op, threshold, a, b, c) => {
        const result = parsed(`${a}${op}${b}${String(threshold)}${c}`);
        expect(result.op).toBe(op);
        expect((result as { threshold: number }).threshold === threshold).toBe(true);
      }),
    );
  });

  it('writes every condition back in a form that parses to the same condition', () => {
    fc.assert(
      fc.property(condition, (c) => {
        const again = parsed(formatCondition(c));
        expect(again.op).toBe(c.op);
        if (c.op === 'between' && again.op === 'between') expect([again.low === c.low, again.high === c.high]).toEqual([true, true]);
        else expect((again as { threshold: number }).threshold === (c as { threshold: number }).threshold).toBe(true);
      }),
    );
  });

  it('never throws on arbitrary text: it parses or says why not', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (text) => {
        const result = parseCondition(text);
        expect('condition' in result || 'problem' in result).toBe(true);
        if ('condition' in result) expect(parsed(formatCondition(result.condition)).op).toBe(result.condition.op);
      }),
    );
  });

  it('means what it says: a value meets a between-condition exactly when it lies within both ends, inclusive', () => {
    fc.assert(
      fc.property(finite, finite, finite, (a, b, v) => {
        const [low, high] = [Math.min(a, b), Math.max(a, b)];
        expect(meets(parsed(`between ${low} and ${high}`), v)).toBe(low <= v && v <= high);
      }),
    );
    expect(meets(parsed('< 1'), 1)).toBe(false);
    expect(meets(parsed('<= 1'), 1)).toBe(true);
    expect(meets(parsed('> 0.99'), NaN)).toBe(false);
    expect(meets(parsed('< 0.01'), -Infinity)).toBe(true);
  });

  it('words a miss as a relation that holds for the value shown, even where rounding would blur it', () => {
    expect(describeMiss(parsed('< 0.01'), 0.3125000001)).toBe('0.3125 >= 0.01');
    expect(describeMiss(parsed('<= 0.01'), 0.0100000001)).toBe('0.0100000001 > 0.01');
    expect(describeMiss(parsed('between 0.1 and 0.5'), 0.05)).toBe('0.05 < 0.1');
    expect(describeMiss(parsed('> 0.99'), -Infinity)).toBe('-Inf <= 0.99');
    fc.assert(
      fc.property(condition, finite, (c, v) => {
        fc.pre(!meets(c, v));
        const [shown, op, bound] = describeMiss(c, v).split(' ');
        const value = Number(shown);
        const limit = Number(bound);
        const holds = { '<': value < limit, '<=': value <= limit, '>': value > limit, '>=': value >= limit }[op as '<'];
        expect(holds).toBe(true);
        // The value shown still misses the condition.
        expect(meets(c, value)).toBe(false);
      }),
    );
  });

  it('shows values with at most six significant digits and Prometheus’ names for the infinities', () => {
    expect(formatValue(0.31250000000000006)).toBe('0.3125');
    expect(formatValue(1234567.89)).toBe('1234570');
    expect(formatValue(Infinity)).toBe('+Inf');
    expect(formatValue(NaN)).toBe('NaN');
  });
});
