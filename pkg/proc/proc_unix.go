//go:build unix

package proc

import (
	"os/exec"
	"syscall"
)

// sysProcAttr puts the process in its own process group, so that stopping it reaches
// any process it spawned, and where the OS supports it has the kernel kill it when
// this process dies.
func sysProcAttr() *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Setpgid: true}
	setParentDeathSignal(attr)
	return attr
}

// signalGroup sends SIGTERM, or SIGKILL when kill is set, to cmd's process group.
func signalGroup(cmd *exec.Cmd, kill bool) {
	sig := syscall.SIGTERM
	if kill {
		sig = syscall.SIGKILL
	}
	_ = syscall.Kill(-cmd.Process.Pid, sig)
}
