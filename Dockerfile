# Same build as .ci/run: the Rust toolchain and a C compiler are all it needs (SQLite, libpq and
# OpenSSL are compiled in), so the runtime image carries no database or TLS libraries.
# It builds only; the tests (and the Chromium the browser tests need) run in .ci/run.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --locked --release \
 && ! ldd target/release/opengov-api | grep -E "libsqlite3|libpq|libssl|libcrypto"

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --home-dir /var/lib/opengov --create-home opengov \
 && mkdir -p /var/lib/opengov/data && chown opengov:opengov /var/lib/opengov/data
COPY --from=build /src/target/release/opengov-api /usr/local/bin/opengov-api
USER opengov
WORKDIR /var/lib/opengov
# SQLite by default (created, migrated and loaded on first start); set DATABASE_URL=postgres://…
# and run `opengov-api migrate` as a release step for PostgreSQL. Any option can be set by its
# variable (docs/CONFIGURATION.md) or in a TOML file named by OPENGOV_CONFIG; LOG_FORMAT=json
# for log collectors.
ENV BIND=0.0.0.0:8080 \
    DATABASE_URL=sqlite://data/opengov.db \
    PROBE_ADDR=127.0.0.1:8080 \
    LOG_FORMAT=plain \
    RUST_LOG=info
VOLUME ["/var/lib/opengov/data"]
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=6s --start-period=20s --retries=3 \
  CMD ["opengov-api", "probe", "--path", "/readyz"]
ENTRYPOINT ["opengov-api"]
CMD ["serve"]
