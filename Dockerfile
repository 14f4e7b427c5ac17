# The mip API as one small image: build with the Rust toolchain, run on Debian slim.
#
#   docker build -t mip .
#   docker run --rm -p 8080:8080 -e DATABASE_URL=postgres://... -e MIP_JWT_SECRET=... mip
#
# The binary embeds its migrations (`embed_migrations!` in src/db.rs), the demo data
# (`include_str!` in src/demo.rs) and the API explorer's assets (utoipa-swagger-ui, `vendored`),
# so the runtime stage needs nothing of the source tree.

# --- build ------------------------------------------------------------------------------------
FROM rust:1-bookworm AS builder

# diesel links libpq (the image usually has it already; asking costs nothing when it does).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /build

# Dependencies first, against placeholder sources: this layer is rebuilt only when
# Cargo.toml or Cargo.lock change, not on every edit of the code.
COPY Cargo.toml Cargo.lock ./
RUN mkdir src \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs \
    && cargo build --release --locked \
    && rm -rf src

# The real sources. `touch` makes cargo rebuild the crate itself, whose placeholder build above
# may look newer than files copied with their original timestamps.
COPY build.rs ./
COPY src ./src
COPY templates ./templates
COPY migrations ./migrations
COPY demo ./demo
RUN touch src/main.rs src/lib.rs \
    && cargo build --release --locked \
    && cp target/release/mip /usr/local/bin/mip

# --- run --------------------------------------------------------------------------------------
FROM debian:bookworm-slim

# libpq5: diesel's PostgreSQL client library. ca-certificates: TLS to a managed database
# (`?sslmode=require`). curl: the health check below (and compose's).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq5 ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 mip \
    && useradd --system --uid 10001 --gid mip --no-create-home --shell /usr/sbin/nologin mip

COPY --from=builder /usr/local/bin/mip /usr/local/bin/mip

# A numeric user, so orchestrators that require a non-root user can check it.
USER 10001:10001

ENV MIP_BIND=0.0.0.0:8080
EXPOSE 8080

# Ready means the database answers too. Start period: migrations (and the demo data) run first.
# The port is MIP_BIND's: change both together.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD curl -fsS -o /dev/null http://127.0.0.1:8080/health/ready || exit 1

ENTRYPOINT ["mip"]
CMD ["serve"]
