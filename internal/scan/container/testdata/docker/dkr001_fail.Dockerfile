FROM python:3.12-slim@sha256:000000000000000000000000000000000000000000000000000000000000fa4e
RUN pip install --no-cache-dir torch==2.3.1
CMD ["python", "-m", "serve"]
