//go:build unix && !linux

package dynamotest

import "syscall"

// setParentDeathSignal does nothing: only Linux has a parent-death signal, so
// elsewhere moto_server is stopped by Main alone.
func setParentDeathSignal(*syscall.SysProcAttr) {}
