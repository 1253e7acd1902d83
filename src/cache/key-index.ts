import type { KeyValue } from "../store/index.js";

/**
 * KeyIndex holds key-value pairs in a tree of "/"-separated directories so that
 * listing one directory (e.g. the instances of one service) costs the size of
 * the answer, not the size of the whole key space. Sorted listings are cached
 * per directory until it changes.
 */
export class KeyIndex {
  private readonly root = new DirNode();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(key: string): KeyValue | undefined {
    return this.find(dirOf(key))?.leaves.get(key);
  }

  set(kv: KeyValue): void {
    const node = this.find(dirOf(kv.key), true)!;
    if (!node.leaves.has(kv.key)) this.count++;
    node.leaves.set(kv.key, kv);
    this.invalidate(dirOf(kv.key));
  }

  delete(key: string): KeyValue | undefined {
    const dir = dirOf(key);
    const node = this.find(dir);
    const previous = node?.leaves.get(key);
    if (!node || !previous) return undefined;
    node.leaves.delete(key);
    this.count--;
    this.invalidate(dir);
    this.prune(dir);
    return previous;
  }

  clear(): void {
    this.root.children.clear();
    this.root.leaves.clear();
    this.root.sorted = undefined;
    this.count = 0;
  }

  /** Every pair whose key starts with prefix, sorted by key. */
  list(prefix: string): KeyValue[] {
    const slash = prefix.lastIndexOf("/");
    const dir = prefix.slice(0, slash + 1);
    const node = this.find(dir);
    if (!node) return [];
    const all = node.sortedSubtree();
    if (dir === prefix) return all;
    return all.filter((kv) => kv.key.startsWith(prefix));
  }

  private find(dir: string, create = false): DirNode | undefined {
    let node = this.root;
    for (const part of segments(dir)) {
      let child = node.children.get(part);
      if (!child) {
        if (!create) return undefined;
        child = new DirNode();
        node.children.set(part, child);
      }
      node = child;
    }
    return node;
  }

  /** Drops the cached sorted listings of dir and of every directory above it. */
  private invalidate(dir: string): void {
    let node = this.root;
    node.sorted = undefined;
    for (const part of segments(dir)) {
      const child = node.children.get(part);
      if (!child) return;
      child.sorted = undefined;
      node = child;
    }
  }

  /** Removes empty directories so that deleted services leave no residue. */
  private prune(dir: string): void {
    const parts = segments(dir);
    const path: DirNode[] = [this.root];
    for (const part of parts) {
      const child = path[path.length - 1]!.children.get(part);
      if (!child) return;
      path.push(child);
    }
    for (let i = parts.length; i > 0; i--) {
      const node = path[i]!;
      if (node.leaves.size > 0 || node.children.size > 0) return;
      path[i - 1]!.children.delete(parts[i - 1]!);
    }
  }
}

class DirNode {
  readonly children = new Map<string, DirNode>();
  readonly leaves = new Map<string, KeyValue>();
  sorted: KeyValue[] | undefined;

  sortedSubtree(): KeyValue[] {
    if (this.sorted) return this.sorted;
    const all: KeyValue[] = [...this.leaves.values()];
    for (const child of this.children.values()) all.push(...child.sortedSubtree());
    all.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    this.sorted = all;
    return all;
  }
}

function dirOf(key: string): string {
  return key.slice(0, key.lastIndexOf("/") + 1);
}

function segments(dir: string): string[] {
  // "a/b/" -> ["a", "b"]; a leading "/" gives an empty first segment, which is fine as a name.
  const parts = dir.split("/");
  parts.pop();
  return parts;
}
