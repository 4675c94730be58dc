package check

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/integratord"
)

// ParseFlags parses the flags of a check subcommand named name ("custom-misp
// check"): -home and -config, plus any that extra defines. ok is false when
// the program should exit with status instead of running the checks (-h, an
// invalid flag, a stray argument).
func ParseFlags(name string, args []string, stderr io.Writer, extra func(*flag.FlagSet)) (home, configPath string, status int, ok bool) {
	flags := flag.NewFlagSet(name, flag.ContinueOnError)
	flags.SetOutput(stderr)
	homeFlag := flags.String("home", "", "Wazuh installation `directory` (default: $WAZUH_HOME, else the parent of the binary's integrations/ directory, else the working directory)")
	configFlag := flags.String("config", "", "config `file` (default: $MISP_TELEGRAM_CONFIG, else etc/misp-telegram.toml under the home)")
	if extra != nil {
		extra(flags)
	}

	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return "", "", integratord.ExitOK, false
		}
		return "", "", integratord.ExitUsage, false
	}
	if flags.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected argument %q\n", name, flags.Arg(0))
		return "", "", integratord.ExitUsage, false
	}
	return *homeFlag, *configFlag, 0, true
}

// Execute runs the checks until they finish or SIGINT or SIGTERM arrives,
// prints one line per check, and returns the exit status: 0 when no check
// failed, 1 when one did or when a signal stopped the run. After a signal
// the finished lines are printed without the summary.
func Execute(name string, opts Options, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	results, err := RunInterruptible(ctx, opts)
	if err != nil {
		for _, r := range results {
			fmt.Fprintln(stdout, r.Line())
		}
		fmt.Fprintf(stderr, "%s: stopped by a signal before every check finished\n", name)
		return 1
	}
	return Print(stdout, results)
}
