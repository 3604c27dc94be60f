FROM python:3.12-slim@sha256:000000000000000000000000000000000000000000000000000000000000fa4e
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends curl git=1:2.39.2-1.1 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
RUN apk add --no-cache bash
USER 10001
