/**
 * YAML aliases checked before a document is turned into data: an alias bomb (anchors that alias
 * anchors, each line multiplying the one before) is found by counting what the aliases would expand
 * to, without expanding them, and named by the alias where the count passes the limit. An alias
 * without an anchor before it, or inside the very node it names, is named the same way. Pure.
 */
import { isAlias, isMap, isScalar, isSeq, type Document, type Node } from 'yaml';

/** Far above any pipeline file (a few thousand nodes), far below what would hurt the process. */
export const MAX_EXPANDED_NODES = 100_000;

export interface AliasProblem {
  /** Where in the document, as keys and indexes. */
  path: Array<string | number>;
  /** The offset of the alias in the text, for its line. */
  offset: number;
  message: string;
}

class Found {
  constructor(readonly problem: AliasProblem) {}
}

/** The first alias problem in document order, or undefined. Each node is visited once. */
export function findAliasProblem(doc: Document, maxNodes = MAX_EXPANDED_NODES): AliasProblem | undefined {
  // The anchor an alias names is the latest one before it, as YAML defines it.
  const anchors = new Map<string, Node>();
  const expanded = new Map<Node, number>();
  const walking = new Set<Node>();
  let total = 0;

  const walk = (node: unknown, path: Array<string | number>): number => {
    if (isAlias(node)) {
      const at = (message: string) => new Found({ path, offset: node.range?.[0] ?? 0, message });
      const target = anchors.get(node.source);
      if (!target) throw at(`YAML alias *${node.source} has no anchor &${node.source} before it`);
      if (walking.has(target)) throw at(`YAML alias *${node.source} is inside the node &${node.source} it names (a cycle)`);
      const size = expanded.get(target)!;
      total += size;
      if (total > maxNodes) throw at(`YAML aliases expand the file to more than ${maxNodes} nodes (an alias bomb)`);
      return size;
    }
    if (!isMap(node) && !isSeq(node) && !isScalar(node)) return 0;
    if (node.anchor) anchors.set(node.anchor, node);
    walking.add(node);
    let size = 1;
    total += 1;
    if (isMap(node)) {
      for (const pair of node.items) {
        size += walk(pair.key, path);
        size += walk(pair.value, [...path, isScalar(pair.key) ? String(pair.key.value) : '?']);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => (size += walk(item, [...path, i])));
    }
    walking.delete(node);
    expanded.set(node, size);
    return size;
  };

  try {
    walk(doc.contents, []);
    return undefined;
  } catch (err) {
    if (err instanceof Found) return err.problem;
    throw err;
  }
}
