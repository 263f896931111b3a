//go:build !linux

package lambdaemu

import (
	"os"
	"os/exec"
	"syscall"
)

// Lambda bootstraps are Linux executables; elsewhere the package builds (a darwin
// host can still run a bootstrap built for its own GOOS) without the Linux extras.

func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

func killGroup(cmd *exec.Cmd) { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }

func peakRSS(int) int64 { return 0 }

func maxRSS(*os.ProcessState) int64 { return 0 }
