/**
 * Headers of every dashboard response. Next.js inlines its bootstrap and flight data as scripts
 * and React sets style attributes, so scripts and styles allow 'unsafe-inline' from our own origin
 * only; nothing may load from, connect to or post to another origin, and the dashboard is never
 * framed. An email's HTML is shown from `srcDoc` in a sandboxed iframe, which inherits this policy
 * on top of its own stricter one, so remote images in mail stay blocked. `next dev` needs eval.
 */
export function dashboardSecurityHeaders({ development = false } = {}): { key: string; value: string }[] {
  const policy = [
    "default-src 'self'",
    `script-src 'self' 'unsafe-inline'${development ? " 'unsafe-eval'" : ""}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "frame-src 'self'",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
  return [
    { key: "Content-Security-Policy", value: policy },
    { key: "X-Frame-Options", value: "DENY" },
    { key: "X-Content-Type-Options", value: "nosniff" },
    { key: "Referrer-Policy", value: "strict-origin-when-cross-origin" },
    { key: "Cross-Origin-Opener-Policy", value: "same-origin" },
    { key: "Permissions-Policy", value: "camera=(), microphone=(), geolocation=(), payment=()" },
  ];
}
