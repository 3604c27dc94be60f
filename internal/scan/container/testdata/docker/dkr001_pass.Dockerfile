FROM python:3.12-slim@sha256:000000000000000000000000000000000000000000000000000000000000fa4e AS build
RUN useradd -u 10001 app
USER app

FROM build AS final
COPY --chown=app . /srv
CMD ["python", "-m", "serve"]
