/** Where a value is stored. Normalized: namespace is never empty ("default"). */
export interface Scope {
  namespace: string;
  /** Empty: namespace-wide. */
  service: string;
  /** Empty: the default profile. */
  profile: string;
}

export const CONTENT_TYPES = ["text/plain", "application/json", "application/yaml"] as const;
export type ContentType = (typeof CONTENT_TYPES)[number];

/** The four layers of a resolved view, lowest precedence first. */
export const LAYERS = ["namespace-default", "namespace-profile", "service-default", "service-profile"] as const;
export type Layer = (typeof LAYERS)[number];

/** One stored key of one scope. */
export interface ConfigValue {
  scope: Scope;
  key: string;
  value: string;
  contentType: ContentType;
  /** Revision of the last write to the key (pass as expectedRevision). */
  revision: number;
  /** Writes since the key was (re)created, starting at 1. */
  version: number;
  author: string;
  updatedAt: Date;
  /** value is sealed (encrypted): src/server opens it only for callers allowed to read secrets. */
  secret: boolean;
}

/** One key of a resolved view. */
export interface ResolvedEntry {
  key: string;
  value: string;
  contentType: ContentType;
  layer: Layer;
  source: Scope;
  revision: number;
  /** As in ConfigValue. */
  secret: boolean;
}

export interface ResolvedView {
  /** Sorted by key. */
  entries: ResolvedEntry[];
  /** Store revision the view reflects. */
  revision: number;
}

/** One write of a key, as kept in history. */
export interface ConfigVersion {
  /** Empty when deleted. */
  value: string;
  contentType: ContentType;
  revision: number;
  author: string;
  updatedAt: Date;
  deleted: boolean;
  /** As in ConfigValue. */
  secret: boolean;
}

/** One message of a config watch stream (see ConfigService.WatchConfig in the proto). */
export interface ConfigViewUpdate {
  /** The whole resolved view (empty for a bookmark). */
  entries: ResolvedEntry[];
  /** Keys whose resolved entry changed; empty on the first message, a reset or a bookmark. */
  changedKeys: string[];
  revision: number;
  reset: boolean;
  bookmark: boolean;
}

/** What to resolve: a namespace, optionally a service, optionally a profile. */
export interface ViewSelector {
  namespace: string;
  service: string;
  profile: string;
}

export interface PutValueInput {
  scope: Partial<Scope> | undefined;
  key: string;
  value: string;
  /** "text/plain" when empty. */
  contentType?: string;
  /** 0: the key must not exist; N: its revision must be N; undefined: unconditional. */
  expectedRevision?: number;
  author?: string;
  /** Seal the value (needs ConfigManagerOptions.sealSecret). Default false. */
  secret?: boolean;
}

export interface DeleteValueInput {
  scope: Partial<Scope> | undefined;
  key: string;
  expectedRevision?: number;
  author?: string;
}

export interface ImportEntryInput {
  key: string;
  value: string;
  contentType?: string;
  /** As in PutValueInput. */
  secret?: boolean;
}

export interface ImportValuesInput {
  scope: Partial<Scope> | undefined;
  entries: ImportEntryInput[];
  /** Also delete the keys of the scope that are not in entries. */
  replace?: boolean;
  author?: string;
}

export interface ImportResult {
  revision: number;
  written: number;
  deleted: number;
}
