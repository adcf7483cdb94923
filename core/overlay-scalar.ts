/** Writing a string as a YAML scalar that reads back as that same string, for kustomize too. */
import { isScalar, parseDocument } from 'yaml';

export type ScalarStyle = 'PLAIN' | 'QUOTE_SINGLE' | 'QUOTE_DOUBLE';

/** The value in the given style, or double-quoted where that style cannot hold it. */
export function renderScalar(value: string, style: ScalarStyle, inFlow: boolean): string {
  if (style === 'QUOTE_SINGLE' && !/[^\x20-\x7e\u00a0-\ud7ff\ue000-\ufffd]/.test(value)) return `'${value.replace(/'/g, "''")}'`;
  if (style === 'PLAIN' && isPlainSafe(value, inFlow)) return value;
  return doubleQuoted(value);
}

/**
 * Plain when YAML would read it back as the same string: not a number, bool, null, date or
 * syntax — under YAML 1.2 (this package) and YAML 1.1 (kustomize reads kustomization.yaml with a
 * 1.1 parser, where `on`, `yes`, `0123` and `1:20` are not strings).
 */
export function isPlainSafe(value: string, inFlow = false): boolean {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.\-/:@+]*$/.test(value)) return false;
  if (/:(\s|$)/.test(value)) return false;
  if (inFlow && /[,[\]{}]/.test(value)) return false;
  return (['1.1', '1.2'] as const).every((version) => {
    const doc = parseDocument(value, { version });
    return doc.errors.length === 0 && isScalar(doc.contents) && doc.contents.value === value;
  });
}

/** JSON's escapes are YAML's; YAML also wants the C1 controls and DEL escaped. */
function doubleQuoted(value: string): string {
  return JSON.stringify(value).replace(/[\x7f-\x9f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
