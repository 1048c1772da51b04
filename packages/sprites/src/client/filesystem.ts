import type { ClientContext } from "./context.js";

export interface DirEntry {
  name: string;
  type: "file" | "dir" | "symlink" | "other";
}

export interface FilesystemOperations {
  writeFile(name: string, path: string, data: string | Buffer, mode?: number): Promise<void>;
  readFile(name: string, path: string): Promise<Buffer>;
  /** The entries of a directory (not recursive). */
  listDir(name: string, path: string): Promise<DirEntry[]>;
}

export function filesystemOperations(ctx: ClientContext): FilesystemOperations {
  const { sdk, retried } = ctx;
  return {
    async writeFile(name, path, data, mode) {
      await retried(`write ${path} on sprite '${name}'`, () =>
        sdk
          .sprite(name)
          .filesystem()
          .writeFile(path, data, mode === undefined ? undefined : { mode }),
      );
    },

    async readFile(name, path) {
      return retried(`read ${path} on sprite '${name}'`, async () => {
        const content = await sdk.sprite(name).filesystem().readFile(path);
        return Buffer.isBuffer(content) ? content : Buffer.from(content);
      });
    },

    async listDir(name, path) {
      return retried(`list ${path} on sprite '${name}'`, async () => {
        const entries = await sdk.sprite(name).filesystem().readdir(path, { withFileTypes: true });
        return entries.map((entry) => ({
          name: entry.name,
          type: entry.isDirectory()
            ? "dir"
            : entry.isSymbolicLink()
              ? "symlink"
              : entry.isFile()
                ? "file"
                : "other",
        }));
      });
    },
  };
}
