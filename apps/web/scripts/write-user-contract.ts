/**
 * Writes `src/lib/user-contract.json`: the user contract's routes without their zod schemas, which is
 * all the dashboard's OpenAPI link needs (method, path, input/output structure). Importing the full
 * contract would ship every schema of the API to the browser. Run after changing a user route:
 * `npm run -w @vps-claude/web contract:json` (a unit test says when the file is stale).
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { minifiedUserContract } from "../src/lib/minify-contract";

const target = fileURLToPath(new URL("../src/lib/user-contract.json", import.meta.url));
writeFileSync(target, minifiedUserContract());
