# Meshflow image: one image for the studio (next start), the worker (runtime/worker/main.ts)
# and the migration job (scripts/migrate.ts); the Kubernetes manifests in deploy/ pick the command.
# Build: docker build -t meshflow:0.1.0 .
#
# Stage 1: dependencies, with dev dependencies (Next.js build, Prisma client generation).
FROM node:22-bookworm-slim AS deps
WORKDIR /app
ENV NEXT_TELEMETRY_DISABLED=1
COPY package.json package-lock.json ./
# postinstall generates the Prisma client and the CLI bundle: it needs these sources.
COPY prisma ./prisma
COPY prisma.config.ts tsconfig.json ./
COPY scripts ./scripts
COPY runtime ./runtime
RUN npm ci --no-audit --no-fund

# Stage 2: the studio build.
FROM deps AS build
COPY . .
RUN npm run build && npm prune --omit=dev

# Stage 3: what runs. No compilers, no dev dependencies, not root.
FROM node:22-bookworm-slim AS runtime
WORKDIR /app
ENV NODE_ENV=production NEXT_TELEMETRY_DISABLED=1 PORT=3000 WORKER_PORT=8080 WORKER_HOST=0.0.0.0
COPY --from=build --chown=node:node /app/package.json /app/package-lock.json /app/next.config.ts /app/tsconfig.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/.next ./.next
COPY --from=build --chown=node:node /app/.build ./.build
COPY --from=build --chown=node:node /app/app ./app
COPY --from=build --chown=node:node /app/components ./components
COPY --from=build --chown=node:node /app/server ./server
COPY --from=build --chown=node:node /app/runtime ./runtime
COPY --from=build --chown=node:node /app/prisma ./prisma
COPY --from=build --chown=node:node /app/scripts ./scripts
COPY --from=build --chown=node:node /app/bin ./bin
USER node
EXPOSE 3000 8080
# The studio by default; the worker and the migration job override the command.
CMD ["node", "node_modules/next/dist/bin/next", "start"]
