import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createLocalStorage, safeFileName } from "./index";

describe("local storage", () => {
  it("stores, reads and removes by prefix", async () => {
    const storage = createLocalStorage({ dir: await mkdtemp(join(tmpdir(), "storage-")) });
    await storage.put("attachments/email_1/a.txt", Buffer.from("hello"));
    expect((await storage.get("attachments/email_1/a.txt"))?.toString()).toBe("hello");
    await storage.remove("attachments/email_1");
    expect(await storage.get("attachments/email_1/a.txt")).toBeUndefined();
  });

  it.each(["../etc/passwd", "a/../../b", "/abs", "a/./b", "..", "a\u0000b"])(
    "refuses the key %j",
    async (key) => {
      const storage = createLocalStorage({ dir: await mkdtemp(join(tmpdir(), "storage-")) });
      await expect(storage.put(key, Buffer.from("x"))).rejects.toThrow(/unsafe storage key/);
    },
  );

  it("turns outside file names into safe segments", () => {
    expect(safeFileName("../../evil.sh")).toBe("_.._evil.sh");
    expect(safeFileName("report (final).pdf")).toBe("report_final_.pdf");
    expect(safeFileName("...")).toBe("file");
  });
});
