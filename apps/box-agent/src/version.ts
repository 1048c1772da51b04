import pkg from "../package.json" with { type: "json" };

/** Inlined into the bundle at build time, so a sandbox reports the version it was built from. */
export const VERSION: string = pkg.version;
