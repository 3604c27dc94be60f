FROM python:3.12-slim@sha256:000000000000000000000000000000000000000000000000000000000000fa4e
RUN apt-get update \
 && apt-get install -y --no-install-recommends -o Dpkg::Options::=--force-confold curl=7.88.1-10+deb12u5 ./local.deb
RUN apk add --no-cache bash=5.2.21-r0 musl~1.2
USER 10001
