# Rollcall in a container: `docker compose up -d` runs it beside PostgreSQL (compose.yaml);
# alone, `docker run --env-file .env -v rollcall-data:/app/data rollcall` runs it on SQLite.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A user of its own: the bot needs no root, and its files stay out of root's reach.
RUN groupadd --system rollcall && useradd --system --gid rollcall --home-dir /app --shell /usr/sbin/nologin rollcall

WORKDIR /app

# The pinned requirements first, so code changes do not reinstall them.
COPY requirements.txt .
RUN pip install --requirement requirements.txt

COPY --chown=rollcall:rollcall . .
RUN mkdir -p /app/data && chown rollcall:rollcall /app/data

USER rollcall

# The SQLite database (when DATABASE_URL is not set) and the heartbeat live here.
VOLUME ["/app/data"]

# The bot has no HTTP server: it rewrites data/heartbeat every 30 s once connected, and the
# health check fails when that file is older than 90 s (see bot/heartbeat.py).
HEALTHCHECK --interval=30s --timeout=10s --start-period=120s --retries=3 \
    CMD ["python", "main.py", "healthcheck"]

# Exec form: the bot is PID 1 and gets `docker stop`'s SIGTERM, on which it closes cleanly.
CMD ["python", "main.py"]
