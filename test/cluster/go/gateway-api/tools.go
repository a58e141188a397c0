//go:build tools

// Package tools pins the Gateway API release whose standard-channel CRDs
// (config/crd/standard) the test control plane installs. Only its files are used.
package tools

import _ "sigs.k8s.io/gateway-api/apis/v1"
