import { asApiError } from "./api-error";

/** The box's home, as the files API reports it; the dashboard shows it as "~". */
export const BOX_HOME = "/home/sprite";

/** "~/notes/todo.md" for "/home/sprite/notes/todo.md"; "" (the API's name for the home) is "~". */
export function displayPath(path: string): string {
  if (path === "" || path === BOX_HOME) {
    return "~";
  }
  return path.startsWith(`${BOX_HOME}/`) ? `~${path.slice(BOX_HOME.length)}` : path;
}

export interface PathCrumb {
  label: string;
  /** What to list to get there; "" is the home. */
  path: string;
}

/** One crumb for the home and one for each directory below it. */
export function pathCrumbs(dir: string): PathCrumb[] {
  const crumbs: PathCrumb[] = [{ label: "~", path: "" }];
  if (dir === "" || dir === BOX_HOME) {
    return crumbs;
  }
  if (!dir.startsWith(`${BOX_HOME}/`)) {
    return [...crumbs, { label: dir, path: dir }];
  }
  let path = BOX_HOME;
  for (const name of dir.slice(BOX_HOME.length + 1).split("/")) {
    if (name) {
      path = `${path}/${name}`;
      crumbs.push({ label: name, path });
    }
  }
  return crumbs;
}

/**
 * The path of `name` typed in `dir` ("" is the home): "notes/todo.md" goes below it, "~/…" and "/…"
 * are taken as they are and the server decides whether they stay inside the home.
 */
export function pathInDirectory(dir: string, name: string): string {
  const trimmed = name.trim().replace(/^(\.\/)+/, "");
  if (trimmed.startsWith("/") || trimmed.startsWith("~/")) {
    return trimmed;
  }
  return `${(dir || BOX_HOME).replace(/\/+$/, "")}/${trimmed}`;
}

/** The directory holding `path` ("" for a bare name, the home) and the last segment. */
export function splitPath(path: string): { parent: string; name: string } {
  const slash = path.lastIndexOf("/");
  if (slash < 0) {
    return { parent: "", name: path };
  }
  return { parent: slash === 0 ? "/" : path.slice(0, slash), name: path.slice(slash + 1) };
}

/** Turns base64 from the API into a Blob the browser can save. */
export function base64ToBlob(content: string, type = "application/octet-stream"): Blob {
  const binary = atob(content);
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index++) {
    bytes[index] = binary.charCodeAt(index);
  }
  return new Blob([bytes], { type });
}

/**
 * A 409 means the box is not running (any more); the page may not have noticed yet, so say what to do
 * besides the server's words.
 */
export function explainFilesError(error: unknown): unknown {
  const apiError = asApiError(error);
  if (apiError?.status === 409) {
    return new Error(
      `The box must be running to browse its files (${apiError.message}). Wait for its deploy to finish or redeploy it, then retry.`,
    );
  }
  return error;
}
