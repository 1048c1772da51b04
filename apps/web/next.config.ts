import type { NextConfig } from "next";
import { dashboardSecurityHeaders } from "./src/lib/security-headers";

const nextConfig: NextConfig = {
  poweredByHeader: false,
  // The /rpc proxy's own HTTP agent (no 5-minute cut on a long answer): loaded as is, not bundled.
  serverExternalPackages: ["undici"],
  reactStrictMode: true,
  // The contract (zod schemas, oRPC routes) is TypeScript source in the workspace; the browser uses it too.
  transpilePackages: ["@vps-claude/contract", "@vps-claude/shared"],
  async headers() {
    return [
      {
        source: "/:path*",
        headers: dashboardSecurityHeaders({ development: process.env.NODE_ENV === "development" }),
      },
    ];
  },
};

export default nextConfig;
