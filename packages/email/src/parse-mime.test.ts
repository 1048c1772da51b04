import MailComposer from "nodemailer/lib/mail-composer";
import { describe, expect, it } from "vitest";
import { parseMime } from "./parse-mime";

function compose(options: ConstructorParameters<typeof MailComposer>[0]): Promise<Buffer> {
  return new MailComposer(options).compile().build();
}

describe("parseMime", () => {
  it("extracts threading headers, addresses, bodies and attachments", async () => {
    const raw = await compose({
      from: '"Alice Ä" <alice@example.org>',
      to: ["Box <box+inbox@agents.example.com>", "other@example.org"],
      cc: "Carol <carol@example.org>",
      replyTo: "replies@example.org",
      subject: "Grüße — a question",
      messageId: "<m2@example.org>",
      inReplyTo: "<m1@agents.example.com>",
      references: ["<m0@example.org>", "<m1@agents.example.com>"],
      text: "Plain body ✓",
      html: '<p>HTML body <img src="cid:pic@x"></p>',
      headers: { "X-Custom": "a very long value ".repeat(8).trim() },
      attachments: [
        { filename: "report.csv", content: "a,b\n1,2\n", contentType: "text/csv" },
        {
          filename: "pic.png",
          content: Buffer.from([137, 80, 78, 71]),
          contentType: "image/png",
          cid: "pic@x",
        },
      ],
    });

    const parsed = await parseMime(raw);
    expect(parsed.messageId).toBe("<m2@example.org>");
    expect(parsed.inReplyTo).toBe("<m1@agents.example.com>");
    expect(parsed.references).toEqual(["<m0@example.org>", "<m1@agents.example.com>"]);
    expect(parsed.from).toEqual({ name: "Alice Ä", address: "alice@example.org" });
    expect(parsed.to.map((address) => address.address)).toEqual([
      "box+inbox@agents.example.com",
      "other@example.org",
    ]);
    expect(parsed.cc).toEqual([{ name: "Carol", address: "carol@example.org" }]);
    expect(parsed.replyTo).toEqual([{ name: "", address: "replies@example.org" }]);
    expect(parsed.subject).toBe("Grüße — a question");
    expect(parsed.text.trim()).toBe("Plain body ✓");
    expect(parsed.html).toContain('src="cid:pic@x"');
    expect(parsed.headers["x-custom"]).toBe("a very long value ".repeat(8).trim());
    expect(parsed.headers["message-id"]).toBe("<m2@example.org>");

    const csv = parsed.attachments.find((attachment) => attachment.filename === "report.csv");
    expect(csv).toMatchObject({ contentType: "text/csv", size: 8, inline: false });
    expect(csv?.content.toString()).toBe("a,b\n1,2\n");
    const pic = parsed.attachments.find((attachment) => attachment.filename === "pic.png");
    expect(pic).toMatchObject({ contentId: "pic@x", inline: true, size: 4 });
  });

  it("converts HTML-only mail to text and tolerates missing headers", async () => {
    const raw = Buffer.from(
      [
        "From: someone@example.org",
        "To: box@agents.example.com",
        "Content-Type: text/html; charset=utf-8",
        "",
        "<p>Only <b>HTML</b> here</p><script>x()</script>",
        "",
      ].join("\r\n"),
    );
    const parsed = await parseMime(raw);
    expect(parsed.messageId).toBeUndefined();
    expect(parsed.inReplyTo).toBeUndefined();
    expect(parsed.references).toEqual([]);
    expect(parsed.subject).toBe("");
    expect(parsed.text).toContain("Only HTML here");
    expect(parsed.attachments).toEqual([]);
  });

  it("flattens group addresses", async () => {
    const raw = Buffer.from(
      "From: a@example.org\r\nTo: Team: b@example.org, c@example.org;\r\nSubject: hi\r\n\r\nbody\r\n",
    );
    const parsed = await parseMime(raw);
    expect(parsed.to.map((address) => address.address)).toEqual(["b@example.org", "c@example.org"]);
  });
});
