/// The Dockerfiles the multi-stage article (`/work/shared/seed/`) recommends — its "fixed
/// versions" — copied verbatim so the lint and build tests do not depend on the seed being
/// present (one copy, shared by InspectTests and IntegrationTests).
/// `ArticleFixturesTests` checks each one still appears in the article when it is there.
public enum ArticleDockerfiles {
    public static let nodeTypeScript = """
        # ---- Build Stage ----
        FROM node:20-bookworm AS builder
        WORKDIR /app
        # Install dependencies first (better layer caching)
        COPY package.json package-lock.json ./
        RUN npm ci --include=dev
        # Copy source and build
        COPY tsconfig.json ./
        COPY src/ ./src/
        RUN npm run build
        # Prune devDependencies
        RUN npm prune --production
        # ---- Production Stage ----
        FROM node:20-bookworm-slim
        WORKDIR /app
        # Non-root user for security
        RUN groupadd -r appuser && useradd -r -g appuser appuser
        # Copy only production artifacts
        COPY --from=builder --chown=appuser:appuser /app/dist ./dist
        COPY --from=builder --chown=appuser:appuser /app/node_modules ./node_modules
        COPY --from=builder --chown=appuser:appuser /app/package.json ./
        USER appuser
        EXPOSE 3000
        HEALTHCHECK --interval=30s --timeout=3s \\
        CMD node -e "require('http').get('http://localhost:3000/health', (r) => { process.exit(r.statusCode === 200 ? 0 : 1) })"
        CMD ["node", "dist/index.js"]
        """

    public static let go = """
        # ---- Build Stage ----
        FROM golang:1.22-bookworm AS builder
        WORKDIR /app
        # Cache dependencies
        COPY go.mod go.sum ./
        RUN go mod download
        # Build static binary
        COPY . .
        RUN CGO_ENABLED=0 GOOS=linux GOARCH=amd64 \\
        go build -ldflags='-w -s -extldflags "-static"' \\
        -o /app/server ./cmd/server
        # ---- Production Stage ----
        FROM scratch
        # Copy CA certificates for HTTPS
        COPY --from=builder /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/
        # Copy the static binary
        COPY --from=builder /app/server /server
        EXPOSE 8080
        ENTRYPOINT ["/server"]
        """

    public static let rust = """
        # ---- Build Stage ----
        FROM rust:1.76-bookworm AS builder
        WORKDIR /app
        # Cache dependencies with a dummy build
        COPY Cargo.toml Cargo.lock ./
        RUN mkdir src && echo 'fn main() {}' > src/main.rs
        RUN cargo build --release && rm -rf src target/release/deps/myapp*
        # Build the actual application
        COPY src/ ./src/
        RUN cargo build --release
        # ---- Production Stage ----
        FROM debian:bookworm-slim
        RUN apt-get update && apt-get install -y ca-certificates && rm -rf /var/lib/apt/lists/*
        COPY --from=builder /app/target/release/myapp /usr/local/bin/
        EXPOSE 3000
        CMD ["myapp"]
        """

    public static let python = """
        # ---- Build Stage ----
        FROM python:3.12-bookworm AS builder
        WORKDIR /app
        # Install build dependencies for compiled packages
        RUN apt-get update && apt-get install -y --no-install-recommends \\
        gcc libpq-dev && rm -rf /var/lib/apt/lists/*
        # Create virtual environment and install dependencies
        RUN python -m venv /opt/venv
        ENV PATH="/opt/venv/bin:$PATH"
        COPY requirements.txt ./
        RUN pip install --no-cache-dir -r requirements.txt
        # ---- Production Stage ----
        FROM python:3.12-slim-bookworm
        WORKDIR /app
        # Install only runtime libraries (no gcc, no headers)
        RUN apt-get update && apt-get install -y --no-install-recommends \\
        libpq5 && rm -rf /var/lib/apt/lists/*
        # Copy the virtual environment from builder
        COPY --from=builder /opt/venv /opt/venv
        ENV PATH="/opt/venv/bin:$PATH"
        # Copy application code
        COPY app/ ./app/
        RUN useradd -r appuser
        USER appuser
        EXPOSE 8000
        CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]
        """

    public static let java = """
        # ---- Build Stage ----
        FROM eclipse-temurin:21-jdk-jammy AS builder
        WORKDIR /app
        COPY gradle/ gradle/
        COPY gradlew build.gradle.kts settings.gradle.kts ./
        RUN ./gradlew dependencies --no-daemon
        COPY src/ ./src/
        RUN ./gradlew bootJar --no-daemon
        # ---- Extract layers for better caching ----
        FROM eclipse-temurin:21-jdk-jammy AS extractor
        WORKDIR /app
        COPY --from=builder /app/build/libs/*.jar app.jar
        RUN java -Djarmode=layertools -jar app.jar extract
        # ---- Production Stage ----
        FROM eclipse-temurin:21-jre-jammy
        WORKDIR /app
        RUN groupadd -r appuser && useradd -r -g appuser appuser
        COPY --from=extractor /app/dependencies/ ./
        COPY --from=extractor /app/spring-boot-loader/ ./
        COPY --from=extractor /app/snapshot-dependencies/ ./
        COPY --from=extractor /app/application/ ./
        USER appuser
        EXPOSE 8080
        ENTRYPOINT ["java", "org.springframework.boot.loader.launch.JarLauncher"]
        """

    public static let goCacheMounts = """
        # syntax=docker/dockerfile:1
        FROM golang:1.22 AS builder
        WORKDIR /app
        COPY go.mod go.sum ./
        # Cache the Go module download
        RUN --mount=type=cache,target=/go/pkg/mod \\
        go mod download
        COPY . .
        # Cache the Go build cache
        RUN --mount=type=cache,target=/go/pkg/mod \\
        --mount=type=cache,target=/root/.cache/go-build \\
        CGO_ENABLED=0 go build -o /app/server ./cmd/server
        FROM scratch
        COPY --from=builder /app/server /server
        CMD ["/server"]
        """

    /// The "Good" halves of the article's Common Mistakes, each in a minimal Dockerfile.
    public static let goodLayerCaching = """
        FROM node:20.11.1-bookworm-slim
        WORKDIR /app
        COPY package.json package-lock.json ./
        RUN npm ci
        COPY . .
        RUN useradd -r appuser
        USER appuser
        CMD ["node", "server.js"]
        """

    /// The article's `.dockerignore` (Mistake 1's fix).
    public static let dockerignore = "node_modules\n.git\n*.md\n.env\ndocker-compose*.yml\n"

    public static let fixed: [(String, String)] = [
        ("node-typescript", nodeTypeScript), ("go", go), ("python", python), ("java", java),
        ("go-cache-mounts", goCacheMounts), ("good-practices", goodLayerCaching),
    ]
}
