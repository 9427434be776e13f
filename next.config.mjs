/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // Server-only packages with native parts, Wasm or dynamic requires stay plain
  // Node modules instead of being bundled.
  serverExternalPackages: [
    "pg",
    "@prisma/adapter-pg",
    "@prisma/client",
    "@prisma/schema-engine-wasm",
    "@electric-sql/pglite",
    "@electric-sql/pglite-socket",
    "ioredis",
    "pino",
    "pino-pretty",
    "rate-limiter-flexible",
    "sharp",
    "@aws-sdk/client-s3",
    "@aws-sdk/lib-storage",
  ],
};

export default nextConfig;
