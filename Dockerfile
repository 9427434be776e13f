# syntax=docker/dockerfile:1
# Chatline as one container: `docker build -t chatline .` then
# `docker run -p 3000:3000 -v chatline-data:/app/.data chatline` (embedded database),
# or with DATABASE_URL/REDIS_URL for several instances (docker-compose.yml).
# scripts/docker-steps-check.mjs runs these same steps without Docker.

ARG NODE_IMAGE=node:22-bookworm-slim

# 1. Every dependency (the build needs the dev ones: Next.js compiler, Prisma CLI, esbuild).
#    No install scripts: nothing needs them (Prisma runs on Wasm, esbuild's binary is an
#    optional dependency), and Prisma's would download native engines.
#    `npm install`, not `npm ci`: the registry reachable from our machines serves no
#    packages for other platforms, so the lock file cannot list the optional ones
#    `npm ci` insists on; `npm install` still installs exactly the locked versions.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --ignore-scripts --no-audit --no-fund

# 2. The production build: Prisma client, Next.js (.next) and dist/server.js.
FROM deps AS build
ENV NEXT_TELEMETRY_DISABLED=1
COPY . .
RUN npm run build && rm -rf .next/cache

# 3. What runs: production dependencies only, the build output, the migrations.
#    npm keeps dev packages that production ones name as optional peers (the Prisma
#    CLI, @playwright/test); prune-dev-optional.mjs removes them (833 MB -> 593 MB),
#    but not those a remaining package needs (sharp's detect-libc and semver).
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    NEXT_TELEMETRY_DISABLED=1 \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/app/.data
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/prune-dev-optional.mjs ./scripts/
RUN npm install --omit=dev --ignore-scripts --no-audit --no-fund \
 && node scripts/prune-dev-optional.mjs \
 && npm cache clean --force
COPY --from=build /app/next.config.mjs ./
COPY --from=build /app/prisma ./prisma
COPY --from=build /app/dist ./dist
COPY --from=build /app/.next ./.next
# The embedded database and the generated auth secret live here when DATABASE_URL is unset.
RUN mkdir -p /app/.data && chown node:node /app/.data
USER node
VOLUME /app/.data
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/api/health`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The README's production start (`npm start` = NODE_ENV=production node dist/server.js),
# without npm in between so SIGTERM reaches the server and it shuts down gracefully.
CMD ["node", "dist/server.js"]
