/**
 * What a value looks like on the wire once JSON-encoded: the contract's schemas speak `Date`, a JSON
 * client receives ISO strings. Clients that read raw JSON (the dashboard) type their answers with it.
 */
export type JsonOf<T> = T extends Date
  ? string
  : T extends readonly (infer Item)[]
    ? JsonOf<Item>[]
    : T extends object
      ? { [Key in keyof T]: JsonOf<T[Key]> }
      : T;
