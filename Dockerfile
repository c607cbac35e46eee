# The scanmesh image: master or worker, chosen by the command. nmap is in it; it runs as a user
# that is not root (a worker needs NET_RAW/NET_ADMIN granted by the runtime for SYN/OS scans).
FROM node:20-bookworm-slim
RUN apt-get update \
  && apt-get install -y --no-install-recommends nmap libcap2-bin \
  && setcap cap_net_raw,cap_net_admin,cap_net_bind_service+eip /usr/bin/nmap \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY src ./src
COPY commands ./commands
RUN mkdir -p /state && chown node:node /state
USER node
ENTRYPOINT ["node", "src/cli/bin.js"]
