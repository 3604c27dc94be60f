FROM python:3.12-slim@sha256:000000000000000000000000000000000000000000000000000000000000fa4e
RUN apt-get update && \
    curl -fsSL https://example.com/install.sh | sudo bash -s -- --yes
RUN sh -c "$(wget -qO- https://example.com/setup)"
USER 10001
