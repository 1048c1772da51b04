interface Keyed {
  key: string;
}

/** `list` with `item` in place of the entry with its key (or added), sorted by key as the API lists them. */
export function upsertByKey<T extends Keyed>(list: readonly T[] | undefined, item: T): T[] {
  return [...withoutKey(list, item.key), item].sort((a, b) => a.key.localeCompare(b.key));
}

export function withoutKey<T extends Keyed>(list: readonly T[] | undefined, key: string): T[] {
  return (list ?? []).filter((known) => known.key !== key);
}
