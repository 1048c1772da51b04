import { describe, expect, it } from "vitest";
import {
  buildReplyHeaders,
  generateMessageId,
  normalizeMessageId,
  normalizeRecipient,
  parseAddress,
  parseAddressList,
  parseReferences,
  replySubject,
} from "./threading";

describe("replySubject", () => {
  it.each([
    ["Hello", "Re: Hello"],
    ["Re: Hello", "Re: Hello"],
    ["RE: Hello", "Re: Hello"],
    ["re:Hello", "Re: Hello"],
    ["Re: Re: Hello", "Re: Hello"],
    ["Re: RE: re: Hello", "Re: Hello"],
    ["Re[2]: Hello", "Re: Hello"],
    ["Re (3): Hello", "Re: Hello"],
    ["  Re :  Hello  ", "Re: Hello"],
    ["Fwd: Hello", "Re: Fwd: Hello"],
    ["Regarding the plan", "Re: Regarding the plan"],
    ["Report: Q3", "Re: Report: Q3"],
    ["", "Re:"],
  ])("%j → %j", (subject, expected) => {
    expect(replySubject(subject)).toBe(expected);
  });
});

describe("buildReplyHeaders", () => {
  it("replies to a first message", () => {
    expect(buildReplyHeaders({ parentMessageId: "<a@x>" })).toEqual({
      "In-Reply-To": "<a@x>",
      References: "<a@x>",
    });
  });

  it("appends the parent to its references, normalizing brackets and duplicates", () => {
    expect(buildReplyHeaders({ parentMessageId: "c@x", parentReferences: "<a@x>\r\n <b@x> <a@x>" })).toEqual({
      "In-Reply-To": "<c@x>",
      References: "<a@x> <b@x> <c@x>",
    });
    expect(
      buildReplyHeaders({ parentMessageId: "<c@x>", parentReferences: ["<a@x>", "b@x", "<c@x>"] }),
    ).toEqual({
      "In-Reply-To": "<c@x>",
      References: "<a@x> <b@x> <c@x>",
    });
  });

  it("keeps the root and the latest ids on long threads", () => {
    const chain = Array.from({ length: 30 }, (_, index) => `<m${index}@x>`);
    const { References } = buildReplyHeaders({ parentMessageId: "<last@x>", parentReferences: chain });
    const ids = References.split(" ");
    expect(ids).toHaveLength(20);
    expect(ids[0]).toBe("<m0@x>");
    expect(ids.at(-1)).toBe("<last@x>");
    expect(ids.at(-2)).toBe("<m29@x>");
  });

  it("refuses an empty parent id", () => {
    expect(() => buildReplyHeaders({ parentMessageId: " " })).toThrow(/empty/);
  });
});

describe("message ids", () => {
  it("generates unique ids on our domain", () => {
    const a = generateMessageId("Agents.Example.com");
    const b = generateMessageId("agents.example.com");
    expect(a).toMatch(/^<[0-9a-z]+\.[0-9a-f]{24}@agents\.example\.com>$/);
    expect(a).not.toBe(b);
    expect(() => generateMessageId("not a domain")).toThrow();
  });

  it("normalizes and parses ids", () => {
    expect(normalizeMessageId(" abc@x ")).toBe("<abc@x>");
    expect(normalizeMessageId("<abc@x>")).toBe("<abc@x>");
    expect(normalizeMessageId("")).toBeUndefined();
    expect(parseReferences("<a@x> <b@y>")).toEqual(["<a@x>", "<b@y>"]);
    expect(parseReferences(undefined)).toEqual([]);
  });
});

describe("addresses", () => {
  it("parses display names and lists", () => {
    expect(parseAddress('"Doe, Jane" <Jane@Example.com>')).toEqual({
      name: "Doe, Jane",
      address: "Jane@Example.com",
    });
    expect(parseAddress("plain@example.com")).toEqual({ name: "", address: "plain@example.com" });
    expect(parseAddress("not an address")).toBeUndefined();
    expect(parseAddressList("a@x.org, Team: b@y.org, c@z.org;, junk").map((entry) => entry.address)).toEqual([
      "a@x.org",
      "b@y.org",
      "c@z.org",
    ]);
  });

  it("normalizes recipients for the box lookup", () => {
    expect(normalizeRecipient("Name+Tag@Domain.COM")).toEqual({
      local: "name",
      tag: "tag",
      domain: "domain.com",
      address: "name@domain.com",
    });
    expect(normalizeRecipient('"Box" <MyBox@Agents.Example.com>')).toEqual({
      local: "mybox",
      tag: undefined,
      domain: "agents.example.com",
      address: "mybox@agents.example.com",
    });
    expect(normalizeRecipient("box+a+b@x.org")?.tag).toBe("a+b");
    expect(normalizeRecipient("+tag@x.org")).toBeUndefined();
    expect(normalizeRecipient("nobody")).toBeUndefined();
  });
});
