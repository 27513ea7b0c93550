# Build: the binary is self-contained (pure-Rust PostgreSQL driver, Swagger UI
# and migrations embedded), so the runtime image needs nothing else.
FROM rust:1-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY migrations ./migrations
RUN cargo build --release --locked

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 parcours
COPY --from=build /src/target/release/parcours /usr/local/bin/parcours
USER parcours
ENV PARCOURS_BIND=0.0.0.0:8080 \
    PARCOURS_LOG_FORMAT=json
EXPOSE 8080
ENTRYPOINT ["parcours"]
CMD ["serve"]
