package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
)

// isTerminal reports whether f is a terminal (a character device), where a password
// is prompted for; otherwise it is read from the first line of f.
func isTerminal(f *os.File) bool {
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// promptNoEcho writes prompt to stderr and reads a line from the terminal with echo
// turned off (by stty, which keeps the module free of a terminal library), turning
// it back on afterwards, also when the prompt is interrupted.
func promptNoEcho(prompt string) (string, error) {
	fmt.Fprint(os.Stderr, prompt)
	if err := stty("-echo"); err != nil {
		return "", fmt.Errorf("turn off echo: %w", err)
	}
	// main's signal context would swallow Ctrl-C while the read blocks: here it
	// restores the terminal and ends the program, as Ctrl-C at a prompt should.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case <-sig:
			_ = stty("echo")
			fmt.Fprintln(os.Stderr)
			os.Exit(130)
		case <-done:
		}
	}()
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	close(done)
	signal.Stop(sig)
	restoreErr := stty("echo")
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return "", err
	}
	if restoreErr != nil {
		return "", fmt.Errorf("turn echo back on: %w", restoreErr)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func stty(arg string) error {
	cmd := exec.Command("stty", arg)
	cmd.Stdin = os.Stdin
	return cmd.Run()
}
