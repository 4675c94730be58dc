package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/check"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/integratord"
)

// runCheck runs "custom-misp check [-config PATH] [-home DIR]": one line per
// check, then a summary. It returns 0 when no check failed, 1 when one did
// or when SIGINT or SIGTERM stopped the run, and 2 for invalid flags.
func runCheck(args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("custom-misp check", flag.ContinueOnError)
	flags.SetOutput(stderr)
	home := flags.String("home", "", "Wazuh installation `directory` (default: $WAZUH_HOME, else the parent of the binary's integrations/ directory, else the working directory)")
	configPath := flags.String("config", "", "config `file` (default: $MISP_TELEGRAM_CONFIG, else etc/misp-telegram.toml under the home)")
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return integratord.ExitOK
		}
		return integratord.ExitUsage
	}
	if flags.NArg() > 0 {
		fmt.Fprintf(stderr, "custom-misp check: unexpected argument %q\n", flags.Arg(0))
		return integratord.ExitUsage
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts := check.NewOptions(check.ProgramMISP, *home, *configPath)
	results, err := check.RunInterruptible(ctx, opts)
	if err != nil {
		return printInterrupted(stdout, stderr, results)
	}
	return check.Print(stdout, results)
}

// printInterrupted prints the results of the checks that finished before
// a signal stopped the run, without the summary, and returns 1.
func printInterrupted(stdout, stderr io.Writer, results []check.Result) int {
	for _, r := range results {
		fmt.Fprintln(stdout, r.Line())
	}
	fmt.Fprintln(stderr, "custom-misp check: stopped by a signal before every check finished")
	return 1
}
