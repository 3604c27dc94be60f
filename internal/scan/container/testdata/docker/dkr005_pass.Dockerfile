FROM python:3.12-slim@sha256:000000000000000000000000000000000000000000000000000000000000fa4e
RUN curl -fsSLo /tmp/install.sh https://example.com/install.sh \
 && echo "000000000000000000000000000000000000000000000000000000000000beef  /tmp/install.sh" | sha256sum -c - \
 && bash /tmp/install.sh
USER 10001
