# syncstorage: multi-stage build, runs as a non-root user with its data in /data.
# docker build -t syncstorage . && docker run -p 8000:8000 -v syncstorage:/data syncstorage
FROM node:24-bookworm-slim AS build
WORKDIR /src
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json* ./
COPY packages/memcache/package.json packages/memcache/
COPY packages/cache/package.json packages/cache/
COPY packages/test-support/package.json packages/test-support/
RUN npm ci --no-audit --no-fund || npm install --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
ENV NODE_ENV=production SYNC_DATA_DIR=/data SYNC_HOST=0.0.0.0 SYNC_PORT=8000 \
    SYNC_ADMIN_LISTEN=0.0.0.0:8001
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build /src/admin-page ./admin-page
COPY --from=build /src/packages/memcache/package.json ./packages/memcache/
COPY --from=build /src/packages/memcache/dist ./packages/memcache/dist
COPY --from=build /src/packages/cache/package.json ./packages/cache/
COPY --from=build /src/packages/cache/dist ./packages/cache/dist
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 8000 8001
HEALTHCHECK --interval=30s --timeout=5s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:8000/__lbheartbeat__').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/cli/main.js", "serve"]
