//go:build !unix

package proc

import (
	"os/exec"
	"syscall"
)

func sysProcAttr() *syscall.SysProcAttr { return nil }

// signalGroup kills the process: there are no process groups or SIGTERM here.
func signalGroup(cmd *exec.Cmd, _ bool) { _ = cmd.Process.Kill() }
