/** An HTTP failure of a thin REST client, carrying the provider's own message. */
export class ProviderHttpError extends Error {
  override name = "ProviderHttpError";
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Pulls the human message out of the error bodies ElevenLabs and Google use. */
export async function httpError(provider: string, response: Response): Promise<ProviderHttpError> {
  const text = await response.text().catch(() => "");
  let message = text.slice(0, 300);
  try {
    const body = JSON.parse(text) as {
      detail?: { message?: unknown } | { msg?: unknown; loc?: unknown[] }[];
      error?: { message?: unknown };
    };
    if (Array.isArray(body.detail)) {
      message = body.detail.map((item) => `${(item.loc ?? []).join(".")}: ${String(item.msg)}`).join("; ");
    } else if (typeof body.detail?.message === "string") {
      message = body.detail.message;
    } else if (typeof body.error?.message === "string") {
      message = body.error.message;
    }
  } catch {
    // Not JSON: keep the raw text.
  }
  return new ProviderHttpError(response.status, `${provider} answered HTTP ${response.status}: ${message}`);
}
