# syntax=docker/dockerfile:1
# kvs/operator image, as users build it with a Docker engine (from the repository root):
#   docker build -f images/operator.Dockerfile -t kvs/operator:dev .
# This machine has no Docker engine and no registry: images/build-offline.sh builds the
# equivalent image (same layout, user, entrypoint) from a locally assembled Node.js base.
# Runs as the non-root user "node" (uid 1000, given numerically) and works with a read-only root filesystem
# (it writes only to mounted volumes).

FROM node:20-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

FROM node:20-slim AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:20-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY proto ./proto
COPY package.json ./
# numeric (= user "node" of node:20-slim) so that runAsNonRoot can verify it
USER 1000:1000

ENTRYPOINT ["node", "dist/operator/src/main.js"]
