import type { NextConfig } from "next";
import { dashboardSecurityHeaders } from "./src/lib/security-headers";

const nextConfig: NextConfig = {
  poweredByHeader: false,
  reactStrictMode: true,
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
