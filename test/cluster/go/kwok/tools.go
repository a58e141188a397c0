//go:build tools

// Package tools pins KWOK, which simulates the test cluster's nodes and pods (the one
// simulated part; see test/cluster/README.md). It is never compiled into Aviary.
package tools

import _ "sigs.k8s.io/kwok/cmd/kwok"
