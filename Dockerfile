# steward in a container: for the Kubernetes drift CronJob (deploy/kubernetes/) and any engine
# that runs images. Mount or copy a policy repository at /fleet, the working directory:
#   docker run --rm -v "$PWD:/fleet:ro" -e AZURE_CLIENT_ID=… steward drift --tenants all
# No credential is baked in: the engine provides one at run time (see docs/fleet-gitops.md).

# The toolchain Cargo.toml's rust-version names, on Debian 12, the release the runtime image is
# built from, so the binary links against the glibc it will run with.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
# The caches speed up rebuilds only; the binary is copied out of target/ in the same step,
# since a cache mount is not part of the image.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked \
    && install -D -m 0755 target/release/steward /out/steward

# Distroless rather than scratch with a static musl build: it keeps the glibc build CI already
# tests (no second target to maintain), and still has no shell or package manager, while giving
# CA certificates, time zones and an unprivileged user (65532) that scratch would need by hand.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/steward /usr/local/bin/steward
WORKDIR /fleet
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/steward"]
CMD ["--help"]
