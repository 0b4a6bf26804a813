# dragonfly-cdc: one image for both roles; the command picks the role:
#   docker run <image> source --config /etc/dragonfly-cdc/source.yaml
#   docker run <image> sink --config /etc/dragonfly-cdc/sink.yaml

FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the "prepare" script compiles, and the sources are not copied yet
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:20-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY schemas ./schemas
COPY connectors /etc/dragonfly-cdc
USER node
# the source and sink handle SIGTERM themselves (graceful stop, a second signal forces the exit)
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "bin/dragonfly-cdc.js"]
CMD ["--help"]
