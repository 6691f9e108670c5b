# The Atendimento server image: the SPA built with node, a static Go binary, both on distroless
# (no shell, no package manager, a non-root user). `docker compose up --build` uses it.
#
# Every build command is a make target: `make docker-steps` (CI, no Docker there) runs this
# file's RUN lines verbatim in a copy of the build context, so the two cannot drift.

FROM node:20-bookworm AS web
WORKDIR /src
COPY Makefile ./
COPY web/package.json web/package-lock.json web/
RUN make web-deps
COPY web/ web/
RUN make web-build

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN make build-static OUT=out/atendimento
RUN mkdir -p out/data

FROM gcr.io/distroless/static-debian12:nonroot
WORKDIR /app
COPY --from=build /src/out/atendimento /app/atendimento
COPY --from=web /src/web/dist /app/web/dist
# The SQLite database (the default without DATABASE_URL) and its generated secret.key live here.
COPY --from=build --chown=65532:65532 /src/out/data /app/data
VOLUME ["/app/data"]
USER 65532:65532
ENV HTTP_ADDR=:8080
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 CMD ["/app/atendimento", "healthcheck"]
ENTRYPOINT ["/app/atendimento"]
CMD ["serve"]
