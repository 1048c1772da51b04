import { describe, expect, it } from "vitest";
import { ApiError, errorMessage } from "./api-error";
import {
  base64ToBlob,
  displayPath,
  explainFilesError,
  pathCrumbs,
  pathInDirectory,
  splitPath,
} from "./box-files";

describe("box file paths", () => {
  it("shows the home as ~", () => {
    expect(displayPath("")).toBe("~");
    expect(displayPath("/home/sprite")).toBe("~");
    expect(displayPath("/home/sprite/notes/a.md")).toBe("~/notes/a.md");
    expect(displayPath("/home/spritely")).toBe("/home/spritely");
  });

  it("has one crumb for the home and one for each directory below it", () => {
    expect(pathCrumbs("")).toEqual([{ label: "~", path: "" }]);
    expect(pathCrumbs("/home/sprite/notes/2025")).toEqual([
      { label: "~", path: "" },
      { label: "notes", path: "/home/sprite/notes" },
      { label: "2025", path: "/home/sprite/notes/2025" },
    ]);
  });

  it("places a typed name in the current directory unless it starts at ~ or /", () => {
    expect(pathInDirectory("", " notes/hello.md ")).toBe("/home/sprite/notes/hello.md");
    expect(pathInDirectory("/home/sprite/notes", "./a.md")).toBe("/home/sprite/notes/a.md");
    expect(pathInDirectory("/home/sprite/notes", "~/b.md")).toBe("~/b.md");
    expect(pathInDirectory("/home/sprite/notes", "/etc/passwd")).toBe("/etc/passwd");
  });

  it("splits a path into its directory and name", () => {
    expect(splitPath("hello.md")).toEqual({ parent: "", name: "hello.md" });
    expect(splitPath("notes/hello.md")).toEqual({ parent: "notes", name: "hello.md" });
    expect(splitPath("/home/sprite/a.md")).toEqual({ parent: "/home/sprite", name: "a.md" });
    expect(splitPath("/x")).toEqual({ parent: "/", name: "x" });
  });

  it("explains a 409 and leaves other errors alone", () => {
    const conflict = new ApiError({
      status: 409,
      code: "CONFLICT",
      message: "the box is deploying; its files are available once it is running",
    });
    expect(errorMessage(explainFilesError(conflict))).toMatch(
      /^The box must be running to browse its files \(the box is deploying;/,
    );
    const missing = new ApiError({
      status: 404,
      code: "NOT_FOUND",
      message: "'x' does not exist in the box",
    });
    expect(explainFilesError(missing)).toBe(missing);
  });

  it("decodes base64 into the original bytes", async () => {
    const blob = base64ToBlob(Buffer.from([0, 255, 10]).toString("base64"));
    expect([...new Uint8Array(await blob.arrayBuffer())]).toEqual([0, 255, 10]);
  });
});
