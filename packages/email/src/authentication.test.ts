import { generateKeyPairSync } from "node:crypto";
import { dkimTxtRecord, type FakeDns, startFakeDns } from "@vps-claude/testing";
import { dkimSign } from "mailauth";
import MailComposer from "nodemailer/lib/mail-composer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  authenticateSmtpMessage,
  createDnsLookup,
  domainAligned,
  verdictFromAuthenticationResults,
} from "./authentication";

let dns: FakeDns;
const trustedKey = generateKeyPairSync("rsa", { modulusLength: 2048 });
const attackerKey = generateKeyPairSync("rsa", { modulusLength: 2048 });

beforeAll(async () => {
  dns = await startFakeDns();
  dns.addTxt("trusted.example", "v=spf1 ip4:127.0.0.10 -all");
  dns.addTxt("_dmarc.trusted.example", "v=DMARC1; p=reject");
  dns.addTxt("s1._domainkey.trusted.example", dkimTxtRecord(trustedKey.publicKey));
  dns.addTxt("evil.example", "v=spf1 ip4:127.0.0.66 -all");
  dns.addTxt("s1._domainkey.evil.example", dkimTxtRecord(attackerKey.publicKey));
});
afterAll(async () => {
  await dns?.close();
});

async function message(from: string, signWith?: { domain: string; key: string }) {
  const raw = await new MailComposer({
    from,
    to: "box@agents.example",
    subject: "hello",
    text: "the report is attached",
    messageId: `<${Math.random().toString(36).slice(2)}@mail.example>`,
  })
    .compile()
    .build();
  if (!signWith) {
    return raw;
  }
  const { signatures, errors } = await dkimSign(raw, {
    signatureData: [{ signingDomain: signWith.domain, selector: "s1", privateKey: signWith.key }],
  } as Parameters<typeof dkimSign>[1]);
  expect(errors).toEqual([]);
  return Buffer.concat([Buffer.from(signatures), raw]);
}

const pem = (pair: typeof trustedKey) => pair.privateKey.export({ type: "pkcs8", format: "pem" }).toString();

describe("authenticateSmtpMessage", () => {
  const check = (raw: Buffer, clientIp: string, mailFrom: string) =>
    authenticateSmtpMessage({
      message: raw,
      clientIp,
      helo: "mail.example",
      mailFrom,
      receivingHost: "agents.example",
      lookup: createDnsLookup({ servers: [dns.server] }),
    });

  it("passes a DKIM-signed message from an SPF-authorized host", async () => {
    const raw = await message("Alice <alice@trusted.example>", {
      domain: "trusted.example",
      key: pem(trustedKey),
    });
    expect(await check(raw, "127.0.0.10", "alice@trusted.example")).toEqual({
      source: "smtp",
      spf: "pass",
      dkim: "pass",
      dmarc: "pass",
      authenticated: true,
      domain: "trusted.example",
    });
  });

  it("fails a spoofed From: unsigned, from a host SPF does not authorize", async () => {
    const raw = await message("Alice <alice@trusted.example>");
    expect(await check(raw, "127.0.0.66", "alice@trusted.example")).toMatchObject({
      spf: "fail",
      dkim: "none",
      dmarc: "fail",
      authenticated: false,
      domain: "trusted.example",
    });
  });

  it("does not let a valid signature of another domain vouch for the From domain", async () => {
    const raw = await message("Alice <alice@trusted.example>", {
      domain: "evil.example",
      key: pem(attackerKey),
    });
    expect(await check(raw, "127.0.0.66", "bounce@evil.example")).toMatchObject({
      spf: "pass",
      dkim: "pass",
      dmarc: "fail",
      authenticated: false,
    });
  });

  it("without any DMARC record, trusts only aligned SPF or DKIM", async () => {
    const raw = await message("mallory@evil.example", { domain: "evil.example", key: pem(attackerKey) });
    expect(await check(raw, "127.0.0.1", "mallory@evil.example")).toMatchObject({
      spf: "fail",
      dkim: "pass",
      dmarc: "none",
      authenticated: true,
      domain: "evil.example",
    });
    const unsigned = await message("someone@nowhere.example");
    expect(await check(unsigned, "127.0.0.1", "someone@nowhere.example")).toMatchObject({
      spf: "none",
      dkim: "none",
      dmarc: "none",
      authenticated: false,
    });
  });

  it("answers unauthenticated (temperror) when DNS does not answer", async () => {
    const raw = await message("Alice <alice@trusted.example>", {
      domain: "trusted.example",
      key: pem(trustedKey),
    });
    const verdict = await authenticateSmtpMessage({
      message: raw,
      clientIp: "127.0.0.10",
      mailFrom: "alice@trusted.example",
      receivingHost: "agents.example",
      // Port 9 (discard) on loopback: nothing answers there.
      lookup: createDnsLookup({ servers: ["127.0.0.1:9"], timeoutMs: 200 }),
    });
    expect(verdict.authenticated).toBe(false);
    expect(verdict.spf).toBe("temperror");
  });
});

describe("verdictFromAuthenticationResults", () => {
  it("reads a provider's DMARC pass for the From domain", () => {
    expect(
      verdictFromAuthenticationResults({
        header:
          "mx.resend.example;\r\n spf=pass (sender IP is 192.0.2.1) smtp.mailfrom=bounce.trusted.example;\r\n dkim=pass header.d=trusted.example header.s=s1; dmarc=pass (p=REJECT) header.from=trusted.example",
        from: "Alice <alice@trusted.example>",
      }),
    ).toEqual({
      source: "resend",
      spf: "pass",
      dkim: "pass",
      dmarc: "pass",
      authenticated: true,
      domain: "trusted.example",
    });
  });

  it("does not believe a DMARC pass for some other domain, nor an unaligned DKIM pass", () => {
    expect(
      verdictFromAuthenticationResults({
        header:
          "mx.resend.example; spf=fail smtp.mailfrom=evil.example; dkim=pass header.d=evil.example; dmarc=pass header.from=evil.example",
        from: "alice@trusted.example",
      }),
    ).toMatchObject({ spf: "fail", dkim: "pass", dmarc: "pass", authenticated: false });
  });

  it("trusts an aligned DKIM pass when there is no DMARC policy", () => {
    expect(
      verdictFromAuthenticationResults({
        header:
          "mx.resend.example; spf=softfail smtp.mailfrom=x.example; dkim=pass header.i=@mail.trusted.example; dmarc=none",
        from: "news@mail.trusted.example",
      }),
    ).toMatchObject({ dkim: "pass", dmarc: "none", authenticated: true, domain: "mail.trusted.example" });
  });

  it("says 'none' when the provider gave no results", () => {
    expect(verdictFromAuthenticationResults({ header: undefined, from: "a@trusted.example" })).toEqual({
      source: "none",
      spf: "none",
      dkim: "none",
      dmarc: "none",
      authenticated: false,
      domain: "trusted.example",
    });
  });

  it("reads only the topmost header, the one the provider added", () => {
    expect(
      verdictFromAuthenticationResults({
        header: [
          "mx.resend.example; spf=fail smtp.mailfrom=trusted.example; dmarc=fail",
          "forged; dmarc=pass",
        ],
        from: "a@trusted.example",
      }).authenticated,
    ).toBe(false);
  });
});

describe("domainAligned", () => {
  it.each([
    ["trusted.example", "trusted.example", true],
    ["mail.trusted.example", "trusted.example", true],
    ["trusted.example", "mail.trusted.example", false],
    ["a.github.io", "b.github.io", false],
    ["trusted.example", "", false],
  ])("%s ← %s: %s", (from, other, aligned) => {
    expect(domainAligned(from, other)).toBe(aligned);
  });
});
