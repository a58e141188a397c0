//go:build tools

// Package tools pins etcd, which the tests' control plane stores its objects in; built from
// the Go module proxy (see test/cluster/README.md). It is never compiled into Aviary.
package tools

import _ "go.etcd.io/etcd/server/v3"
