# cfgctl in a container: the sync agent, `cfgctl serve` and the etcd publisher of
# deploy/kubernetes/ run this image (docs/operations.md, Deployment).
#   docker build -t cfgctl:0.2.0 .
# hadolint checks this file in tests/deploy/test_docker.py; .dockerignore keeps the context small.

# The web dashboard (web/) built into the package, as scripts/build-web.sh does.
FROM node:20.19.5-bookworm-slim AS web
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY web/ ./
RUN npm run build

# The wheels of cfgctl and of everything it depends on.
FROM python:3.11.13-slim-bookworm AS wheels
WORKDIR /src
COPY pyproject.toml README.md ./
COPY cfgctl/ cfgctl/
COPY --from=web /src/cfgctl/server/dashboard/ cfgctl/server/dashboard/
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11.13-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# A fixed, unprivileged user: the manifests run as 10001 (runAsUser) and a read-only root.
RUN groupadd --system --gid 10001 cfgctl \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/cfgctl --no-create-home \
       --shell /usr/sbin/nologin cfgctl
RUN --mount=type=bind,from=wheels,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links=/wheels /wheels/cfgctl-*.whl
USER 10001:10001
WORKDIR /var/lib/cfgctl
ENTRYPOINT ["cfgctl"]
CMD ["--help"]
