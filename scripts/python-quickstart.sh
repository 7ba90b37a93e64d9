#!/usr/bin/env bash
# Runs examples/python/quickstart.py against a live server on the embedded database, in a throwaway
# data directory and on a port the system picks; fails if the server does not come up or the example
# fails. Arguments go to the example (e.g. --days 28).
set -euo pipefail
cd "$(dirname "$0")/.."

data_dir="$(mktemp -d)"
log="${data_dir}/server.log"
(cd apps/server && NODE_ENV=production LOG_LEVEL=info PORT=0 DATA_DIR="${data_dir}/db" exec ./node_modules/.bin/tsx src/main.ts) >"${log}" 2>&1 &
server=$!
stop() {
  kill "${server}" 2>/dev/null || true
  wait "${server}" 2>/dev/null || true
  rm -rf "${data_dir}"
}
trap stop EXIT

url=""
for _ in $(seq 1 240); do
  url="$(grep -o '"url":"http://[^"]*"' "${log}" | head -n 1 | cut -d'"' -f4 || true)"
  [ -n "${url}" ] && break
  if ! kill -0 "${server}" 2>/dev/null; then cat "${log}"; exit 1; fi
  sleep 0.5
done
[ -n "${url}" ] || { cat "${log}"; exit 1; }
curl -fsS "${url}/readyz" >/dev/null || { cat "${log}"; exit 1; }
python3 examples/python/quickstart.py --url "${url}" "$@"
