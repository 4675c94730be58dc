package main

import (
	"io"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/check"
)

// runCheck runs "custom-misp check [-config PATH] [-home DIR]": one line per
// check, then a summary. It returns 0 when no check failed, 1 when one did
// or when SIGINT or SIGTERM stopped the run, and 2 for invalid flags.
func runCheck(args []string, stdout, stderr io.Writer) int {
	const name = "custom-misp check"
	home, configPath, status, ok := check.ParseFlags(name, args, stderr, nil)
	if !ok {
		return status
	}
	return check.Execute(name, check.NewOptions(check.ProgramMISP, home, configPath), stdout, stderr)
}
