//go:build unix && !linux

package proc

import "syscall"

// setParentDeathSignal does nothing: only Linux has a parent-death signal, so
// elsewhere the process is ended by Kill or Stop alone.
func setParentDeathSignal(*syscall.SysProcAttr) {}
