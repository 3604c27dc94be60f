FROM python:3.12-slim@sha256:000000000000000000000000000000000000000000000000000000000000fa4e
COPY requirements.txt .
RUN pip install --no-cache-dir --require-hashes -r requirements.txt \
 && pip install torch==2.3.1 --index-url https://download.pytorch.org/whl/cu121 \
 && pip install -e . "mylib @ https://example.com/mylib-1.0.tar.gz" ./wheels/x.whl
USER 10001
