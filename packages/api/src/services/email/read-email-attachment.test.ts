import { describe, expect, it } from "vitest";
import { attachmentDisposition, attachmentFileName, downloadContentType } from "./read-email-attachment";

describe("downloadContentType", () => {
  it.each([
    ["image/png", "image/png"],
    ["Image/JPEG; name=photo.jpg", "image/jpeg"],
    ["application/pdf", "application/pdf"],
    ["text/plain; charset=utf-8", "text/plain"],
    ["text/csv", "text/csv"],
    ["audio/mpeg", "audio/mpeg"],
    [
      "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
      "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ],
  ])("keeps %s as %s", (stored, answered) => {
    expect(downloadContentType(stored)).toBe(answered);
  });

  it.each([
    "text/html",
    "image/svg+xml",
    "application/xhtml+xml",
    "text/xml",
    "application/javascript",
    "text/javascript",
    "multipart/related",
    "",
    "not a type",
  ])("answers %j as opaque bytes", (stored) => {
    expect(downloadContentType(stored)).toBe("application/octet-stream");
  });
});

describe("attachmentFileName", () => {
  it("keeps an ordinary name, accents and all", () => {
    expect(attachmentFileName("Rechnung März.pdf")).toBe("Rechnung März.pdf");
  });

  it("leaves no path, control character, direction override or leading dot", () => {
    expect(attachmentFileName("../../etc/passwd")).toBe("_.._etc_passwd");
    expect(attachmentFileName("a\r\nSet-Cookie: x=1.txt")).toBe("a__Set-Cookie: x=1.txt");
    expect(attachmentFileName("invoice\u202Efdp.exe")).toBe("invoice_fdp.exe");
    expect(attachmentFileName(".bashrc")).toBe("bashrc");
    expect(attachmentFileName("half\uD800.txt")).toBe("half_.txt");
  });

  it("names an empty or all-unsafe name, and shortens a long one", () => {
    expect(attachmentFileName("")).toBe("attachment");
    expect(attachmentFileName(" ... ")).toBe("attachment");
    expect(Array.from(attachmentFileName(`${"é".repeat(300)}.txt`))).toHaveLength(200);
  });
});

describe("attachmentDisposition", () => {
  it("is an attachment with an ASCII fallback and the exact UTF-8 name", () => {
    expect(attachmentDisposition("Rechnung März (1).pdf")).toBe(
      `attachment; filename="Rechnung M_rz (1).pdf"; filename*=UTF-8''Rechnung%20M%C3%A4rz%20%281%29.pdf`,
    );
  });

  it("keeps quotes and backslashes out of the quoted fallback", () => {
    expect(attachmentDisposition('say "hi".txt')).toBe(
      `attachment; filename="say _hi_.txt"; filename*=UTF-8''say%20%22hi%22.txt`,
    );
  });
});
