import { randomBytes } from "node:crypto";

export interface ServerAddress {
  url: string;
  /** The dashboard's origin: cookie-authenticated writes must come from it. */
  publicUrl: string;
}

/** A signed-in user as a browser would be: a cookie jar and the dashboard's Origin. */
export class TestClient {
  private cookies = new Map<string, string>();

  constructor(
    readonly server: ServerAddress,
    readonly extraHeaders: Record<string, string> = {},
  ) {}

  /** The session as a `Cookie` header, for clients other than this one (load generators). */
  get cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const init: RequestInit = {
      method,
      headers: {
        origin: this.server.publicUrl,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...(this.cookies.size > 0 ? { cookie: this.cookieHeader } : {}),
        ...this.extraHeaders,
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    };
    const response = await fetch(`${this.server.url}${path}`, init);
    for (const header of response.headers.getSetCookie()) {
      const [pair = ""] = header.split(";");
      const index = pair.indexOf("=");
      const name = pair.slice(0, index);
      const value = pair.slice(index + 1);
      if (value === "" || /max-age=0/i.test(header)) {
        this.cookies.delete(name);
      } else {
        this.cookies.set(name, value);
      }
    }
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = text;
    }
    return {
      status: response.status,
      body: json as Record<string, unknown> & unknown[],
      headers: response.headers,
    };
  }

  get = (path: string) => this.request("GET", path);
  post = (path: string, body: unknown = {}) => this.request("POST", path, body);
  put = (path: string, body: unknown = {}) => this.request("PUT", path, body);
  delete = (path: string) => this.request("DELETE", path);

  async signUp(
    email = `user-${randomBytes(4).toString("hex")}@example.com`,
    password = "correct-horse-battery",
  ) {
    const res = await this.post("/api/auth/sign-up/email", { email, password, name: email.split("@")[0] });
    if (res.status !== 200) {
      throw new Error(`sign-up failed: ${res.status} ${JSON.stringify(res.body)}`);
    }
    return { email, password, userId: String((res.body as { user?: { id?: string } }).user?.id) };
  }
}

export async function signedInClient(server: ServerAddress) {
  const client = new TestClient(server);
  const user = await client.signUp();
  return { client, user };
}
