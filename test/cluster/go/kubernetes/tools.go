//go:build tools

// Package tools pins the Kubernetes control-plane programs the tests build from the Go
// module proxy (see test/cluster/README.md). k/k's go.mod replaces its staging modules with
// local paths, so this module names each one at v0.37.x. It is never compiled into Aviary.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)
