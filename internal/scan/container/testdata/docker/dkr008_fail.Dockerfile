FROM python:3.12-slim@sha256:000000000000000000000000000000000000000000000000000000000000fa4e
RUN pip install --no-cache-dir torch "transformers>=4.40" numpy==1.26.4
RUN python3 -m pip install -U accelerate
USER 10001
