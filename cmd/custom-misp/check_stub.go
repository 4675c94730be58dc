package main

import (
	"fmt"
	"io"
)

// runCheck is replaced by the self-check.
func runCheck(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "custom-misp: check is not implemented yet")
	return 2
}
