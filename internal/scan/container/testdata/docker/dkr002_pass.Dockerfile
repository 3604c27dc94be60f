ARG CUDA=nvidia/cuda:12.4.1-runtime-ubuntu22.04@sha256:000000000000000000000000000000000000000000000000000000000000fa4e
FROM ${CUDA} AS base
FROM scratch
COPY --from=base /usr/local/cuda /usr/local/cuda
USER 10001
