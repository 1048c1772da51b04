import { defineConfig } from "vitest/config";

/**
 * The source checks `npm run check` runs (no database, no services): today, that no wire type is
 * written by hand outside packages/contract. They run in `npm test` too.
 */
export default defineConfig({
  test: {
    include: ["packages/contract/test/no-hand-mirrors.test.ts"],
    pool: "forks",
  },
});
