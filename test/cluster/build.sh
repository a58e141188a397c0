#!/usr/bin/env bash
# Builds the test control plane's third-party programs from the Go module proxy, each into a
# cache directory named by its version, and reuses what is already there:
#   kube-apiserver, kube-controller-manager, kube-scheduler (k8s.io/kubernetes, through the
#   wrapper module in go/kubernetes: k/k's go.mod replaces its staging modules, so
#   `go install k8s.io/kubernetes/cmd/...@v1.37.x` is refused), etcd (go/etcd) and KWOK (go/kwok).
# The cache is $AVIARY_CLUSTER_CACHE, default ~/.cache/aviary-cluster. Prints one line per
# program: built or cached, seconds, size. Never part of Aviary itself: tests only.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${AVIARY_CLUSTER_CACHE:-$HOME/.cache/aviary-cluster}"

k8s_version="$(sed -n 's/^require k8s.io\/kubernetes \(v[0-9.]*\)$/\1/p' "$here/go/kubernetes/go.mod")"
etcd_version="$(sed -n 's/^require go.etcd.io\/etcd\/server\/v3 \(v[0-9.]*\)$/\1/p' "$here/go/etcd/go.mod")"
kwok_version="$(sed -n 's/^require sigs.k8s.io\/kwok \(v[0-9.]*\)$/\1/p' "$here/go/kwok/go.mod")"
for v in "$k8s_version" "$etcd_version" "$kwok_version"; do
  [ -n "$v" ] || { echo "build.sh: could not read a version from test/cluster/go/*/go.mod" >&2; exit 1; }
done

export CGO_ENABLED=0
# Build one program unless it is cached: build <module dir> <output> <package> [ldflags].
build() {
  local dir="$1" out="$2" pkg="$3" ldflags="${4:-}"
  if [ -x "$out" ]; then
    echo "cluster build: cached $(basename "$out") $(du -m "$out" | cut -f1) MB ($out)"
    return
  fi
  mkdir -p "$(dirname "$out")"
  local start
  start=$(date +%s)
  (cd "$here/go/$dir" && go build -o "$out.partial" -ldflags "-s -w $ldflags" "$pkg")
  mv "$out.partial" "$out"
  echo "cluster build: built $(basename "$out") in $(($(date +%s) - start)) s, $(du -m "$out" | cut -f1) MB ($out)"
}

stamp="-X k8s.io/component-base/version.gitVersion=$k8s_version"
stamp="$stamp -X k8s.io/component-base/version.gitMajor=1"
stamp="$stamp -X k8s.io/component-base/version.gitMinor=$(echo "$k8s_version" | cut -d. -f2)"
build etcd "$cache/etcd-$etcd_version/etcd" go.etcd.io/etcd/server/v3
for cmd in kube-apiserver kube-controller-manager kube-scheduler; do
  build kubernetes "$cache/kubernetes-$k8s_version/$cmd" "k8s.io/kubernetes/cmd/$cmd" "$stamp"
done
build kwok "$cache/kwok-$kwok_version/kwok" sigs.k8s.io/kwok/cmd/kwok
