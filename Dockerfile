# syntax=docker/dockerfile:1
#
# Tenor: one image with every service binary; docker-compose.yml runs each service from it with
# its own `command`.
#
#   docker build -t tenor:local .      (docker compose builds it by itself)
#
# Why one image and not one per binary: the binaries share almost all of their dependencies, so
# one `cargo build` of them all costs little more than one of them; one image is one thing to
# build, scan, tag and promote, and every service runs the same bits (a release cannot ship auth
# from one commit and loan from another).
#
# Stages:
#   chef       Rust 1.95 toolchain, C build tools and cargo-chef (built from crates.io)
#   planner    the dependency recipe: Cargo.toml files and Cargo.lock only
#   builder    dependencies built from the recipe (cached until a manifest or the lock changes),
#              then the workspace binaries in release mode
#   web        Node: the back-office GraphiQL build and the composer's node_modules
#   supergraph `tenor-router compose`: supergraph.yaml + schema/subgraphs → schema/supergraph.graphql
#              (generated, not committed) and the persisted-operations manifest
#   runtime    debian:bookworm-slim, the binaries, the router's files, a non-root user
#
# tests/it/compose_file.rs reads this file: keep TENOR_BINARIES the one list of binaries, and the
# final stage's USER non-root.

ARG RUST_IMAGE=rust:1.95-bookworm
ARG NODE_IMAGE=node:22-bookworm-slim
ARG RUNTIME_IMAGE=debian:bookworm-slim

# --- chef ---------------------------------------------------------------------------------------
FROM ${RUST_IMAGE} AS chef
# rdkafka-sys builds librdkafka from source (its default `./configure && make` build, statically
# linked; zlib through libz-sys, linked dynamically) and aws-lc-sys (rustls in the router) builds
# with cmake. The image already has gcc/g++/make; these add what it may lack.
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential cmake pkg-config zlib1g-dev \
    && rm -rf /var/lib/apt/lists/*
# cargo-chef from crates.io (compiled here; nothing prebuilt is downloaded).
RUN cargo install cargo-chef --locked --version 0.1.77
WORKDIR /src
# The service binaries; each is also the package name. tenor-router also composes the supergraph.
ENV TENOR_BINARIES="tenor-auth tenor-user tenor-kyc tenor-loan tenor-credit tenor-risk tenor-notification tenor-router"

# --- planner ------------------------------------------------------------------------------------
FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

# --- builder ------------------------------------------------------------------------------------
FROM chef AS builder
# `-p` each package (never the whole workspace: tests/harness would switch on the subgraphs'
# `test-support` features through feature unification) and `--bin` each binary (the router
# package also has a stock-hive-router binary the image does not need). The same selection for
# the dependency layer and the real build, so the cached dependencies are the ones used.
COPY --from=planner /src/recipe.json recipe.json
RUN set -eu; args=""; for b in $TENOR_BINARIES; do args="$args -p $b --bin $b"; done; \
    cargo chef cook --release --locked --recipe-path recipe.json $args
COPY . .
RUN set -eu; args=""; for b in $TENOR_BINARIES; do args="$args -p $b --bin $b"; done; \
    cargo build --release --locked $args; \
    mkdir -p /out/bin; \
    for b in $TENOR_BINARIES; do cp "target/release/$b" /out/bin/; done

# --- web ----------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS web
WORKDIR /src
# Lock files first: npm ci reruns only when they change.
COPY router/graphiql/package.json router/graphiql/package-lock.json router/graphiql/
COPY router/compose/package.json router/compose/package-lock.json router/compose/
RUN cd router/graphiql && npm ci --no-audit --no-fund \
    && cd ../compose && npm ci --no-audit --no-fund
COPY router/graphiql router/graphiql
RUN cd router/graphiql && node build.mjs

# --- supergraph ---------------------------------------------------------------------------------
FROM web AS supergraph
COPY supergraph.yaml ./
COPY schema/subgraphs schema/subgraphs
COPY schema/operations schema/operations
COPY router/compose/compose.mjs router/compose/
COPY --from=builder /out/bin/tenor-router /usr/local/bin/tenor-router
# Composes with the locked composer, checks the result and the mobile app's operations against it.
RUN tenor-router compose

# --- runtime ------------------------------------------------------------------------------------
FROM ${RUNTIME_IMAGE} AS runtime
# Shared libraries the binaries link: libc, libm, libgcc_s and zlib, all part of the base image.
# ca-certificates for TLS to managed stores; curl for the compose healthchecks (no binary has a
# health subcommand).
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 tenor \
    && useradd --system --uid 10001 --gid tenor --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin tenor \
    && mkdir -p /var/lib/tenor/kyc-objects \
    && chown -R tenor:tenor /var/lib/tenor
COPY --from=builder /out/bin/ /usr/local/bin/
# The router reads router/router.config.yaml relative to the working directory; the paths inside
# it are relative to its folder: ../schema/supergraph.graphql, ../schema/operations/manifest.json
# and graphiql/dist.
WORKDIR /app
COPY router/router.config.yaml router/router.config.yaml
COPY --from=web /src/router/graphiql/dist router/graphiql/dist
COPY --from=supergraph /src/schema/supergraph.graphql schema/supergraph.graphql
COPY --from=supergraph /src/schema/operations/manifest.json schema/operations/manifest.json
ENV LOG_FORMAT=json \
    HOST=0.0.0.0
# A numeric user, so a runtime that insists on non-root (runAsNonRoot) can check it.
USER 10001:10001
# The router unless told otherwise; compose gives each service its binary as `command`.
CMD ["tenor-router"]
