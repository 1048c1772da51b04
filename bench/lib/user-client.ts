import { randomBytes } from "node:crypto";

export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
  text: string;
}

/**
 * A signed-in dashboard user as the browser is one: session cookies and the dashboard's Origin.
 * Kept here rather than borrowed from the server's tests, which benchmarks must not import.
 */
export class UserClient {
  private readonly cookies = new Map<string, string>();

  constructor(
    readonly baseUrl: string,
    readonly origin: string,
  ) {}

  async request<T = unknown>(method: string, path: string, body?: unknown): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { origin: this.origin };
    if (body !== undefined) {
      headers["content-type"] = "application/json";
    }
    if (this.cookies.size > 0) {
      headers.cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
    }
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    for (const header of response.headers.getSetCookie()) {
      const [pair = ""] = header.split(";");
      const index = pair.indexOf("=");
      if (index > 0) {
        this.cookies.set(pair.slice(0, index), pair.slice(index + 1));
      }
    }
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON: keep the text, the caller reports it.
    }
    return { status: response.status, body: parsed as T, text };
  }

  /** The request, or an error naming the call and the server's answer when the status is not `expected`. */
  async expect<T = unknown>(expected: number, method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.request<T>(method, path, body);
    if (response.status !== expected) {
      throw new Error(`${method} ${path} answered HTTP ${response.status}: ${response.text.slice(0, 500)}`);
    }
    return response.body;
  }

  async signUp(): Promise<{ userId: string; email: string }> {
    const email = `bench-${randomBytes(4).toString("hex")}@example.com`;
    const body = await this.expect<{ user?: { id?: string } }>(200, "POST", "/api/auth/sign-up/email", {
      email,
      password: "correct-horse-battery",
      name: "Bench",
    });
    const userId = body.user?.id;
    if (!userId || this.cookies.size === 0) {
      throw new Error("sign-up answered without a user id or a session cookie");
    }
    return { userId, email };
  }
}
