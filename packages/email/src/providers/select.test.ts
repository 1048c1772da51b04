import { describe, expect, it } from "vitest";
import { selectEmailProvider } from "./select";

describe("selectEmailProvider", () => {
  it("prefers Resend, then SMTP, then the outbox", () => {
    const outboxDir = "/tmp/unused-outbox";
    expect(
      selectEmailProvider({ resendApiKey: "re_x", smtpUrl: "smtp://127.0.0.1:2525", outboxDir }).name,
    ).toBe("resend");
    expect(selectEmailProvider({ smtpUrl: "smtp://127.0.0.1:2525", outboxDir }).name).toBe("smtp");
    expect(selectEmailProvider({ resendApiKey: "", smtpUrl: "", outboxDir }).name).toBe("outbox");
    expect(selectEmailProvider({ outboxDir }).name).toBe("outbox");
  });
});
