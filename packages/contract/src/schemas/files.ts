import { z } from "zod";

const pathField = z.string().max(4096, "path must be at most 4096 characters");
const requiredPath = pathField.min(1, "path is required");

export const FILE_ENCODINGS = ["utf8", "base64"] as const;
export const FILE_ENTRY_TYPES = ["file", "dir", "symlink", "other"] as const;

export const listFilesInput = z.object({ path: pathField.default("") });
export const directoryListingSchema = z.object({
  /** The directory's real path, symlinks resolved; directories come first in `entries`. */
  path: z.string(),
  entries: z.array(z.object({ name: z.string(), path: z.string(), type: z.enum(FILE_ENTRY_TYPES) })),
});

export const readFileInput = z.object({ path: requiredPath });
export const fileContentSchema = z.object({
  path: z.string(),
  /** In bytes. */
  size: z.number(),
  /** Text comes as utf8; anything else (images, archives) as base64. */
  encoding: z.enum(FILE_ENCODINGS),
  content: z.string(),
});

export const writeFileInput = z.object({
  path: requiredPath,
  content: z.string().max(2 * 1024 * 1024),
  encoding: z.enum(FILE_ENCODINGS).default("utf8"),
});
export const writtenFileSchema = z.object({ path: z.string(), size: z.number() });
