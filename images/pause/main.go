// Command pause is Skein's own sandbox ("pause") process for the offline kind node image:
// it holds a pod's namespaces open, reaps orphaned children (it is PID 1 of the pod), and
// exits cleanly on SIGINT/SIGTERM. Built by scripts/cluster/build-tools.sh.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for sig := range sigs {
		if sig != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			var status syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
