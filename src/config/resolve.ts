import type { ContentType, Layer, ResolvedEntry, Scope, ViewSelector } from "./types.js";

/** One layer of a view: which scope feeds it. */
export interface LayerSource {
  layer: Layer;
  scope: Scope;
}

/** What resolution needs of a stored value. */
export interface StoredEntry {
  value: string;
  contentType: ContentType;
  revision: number;
  secret: boolean;
}

/**
 * The layers of a view, lowest precedence first: namespace default, namespace
 * profile (when a profile is given), service default (when a service is
 * given), service profile (when both are).
 */
export function layersFor(selector: ViewSelector): LayerSource[] {
  const { namespace, service, profile } = selector;
  const layers: LayerSource[] = [{ layer: "namespace-default", scope: { namespace, service: "", profile: "" } }];
  if (profile) layers.push({ layer: "namespace-profile", scope: { namespace, service: "", profile } });
  if (service) layers.push({ layer: "service-default", scope: { namespace, service, profile: "" } });
  if (service && profile) layers.push({ layer: "service-profile", scope: { namespace, service, profile } });
  return layers;
}

/** Takes each key from the highest layer that has it; sorted by key. */
export function resolveLayers(
  layers: ReadonlyArray<{ source: LayerSource; values: ReadonlyMap<string, StoredEntry> }>,
): ResolvedEntry[] {
  const resolved = new Map<string, ResolvedEntry>();
  for (const { source, values } of layers) {
    for (const [key, entry] of values) {
      resolved.set(key, {
        key,
        value: entry.value,
        contentType: entry.contentType,
        secret: entry.secret,
        layer: source.layer,
        source: source.scope,
        revision: entry.revision,
      });
    }
  }
  return [...resolved.values()].sort((a, b) => compareKeys(a.key, b.key));
}

/**
 * Keys whose resolved entry differs between two views: added, removed, or a
 * different value, content type or layer. A rewrite of the same value (only
 * the revision moves) is not a change: subscribers see nothing new.
 */
export function changedKeys(before: readonly ResolvedEntry[], after: readonly ResolvedEntry[]): string[] {
  const previous = new Map(before.map((entry) => [entry.key, entry]));
  const changed: string[] = [];
  for (const entry of after) {
    const old = previous.get(entry.key);
    previous.delete(entry.key);
    if (old === undefined || old.value !== entry.value || old.contentType !== entry.contentType || old.layer !== entry.layer) {
      changed.push(entry.key);
    }
  }
  changed.push(...previous.keys());
  return changed.sort(compareKeys);
}

/** Plain code-unit order, the order the store lists keys in. */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sameScope(a: Scope, b: Scope): boolean {
  return a.namespace === b.namespace && a.service === b.service && a.profile === b.profile;
}

/**
 * The stored entries of every layer of one view, kept up to date by applying
 * changes; used by watch streams to recompute the view after each batch.
 */
export class LayeredState {
  private readonly values: Map<string, StoredEntry>[];

  constructor(readonly layers: readonly LayerSource[]) {
    this.values = layers.map(() => new Map());
  }

  /** Index of the layer fed by scope, or -1. */
  layerOf(scope: Scope): number {
    return this.layers.findIndex((layer) => sameScope(layer.scope, scope));
  }

  /** Sets (entry) or removes (undefined) one key of one layer. */
  set(layerIndex: number, key: string, entry: StoredEntry | undefined): void {
    const values = this.values[layerIndex];
    if (values === undefined) return;
    if (entry === undefined) values.delete(key);
    else values.set(key, entry);
  }

  get(layerIndex: number, key: string): StoredEntry | undefined {
    return this.values[layerIndex]?.get(key);
  }

  clear(): void {
    for (const values of this.values) values.clear();
  }

  resolve(): ResolvedEntry[] {
    return resolveLayers(this.layers.map((source, index) => ({ source, values: this.values[index]! })));
  }
}
