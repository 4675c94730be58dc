// Command custom-misp is run by wazuh-integratord once per alert. It looks
// the alert's indicators up in MISP and sends the enrichment events back
// through the manager's queue socket. See usage for the exit statuses.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/integratord"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `custom-misp looks the indicators of a Wazuh alert up in MISP and sends
the matches back to Wazuh as events. wazuh-integratord runs it once per alert.

Usage:
  custom-misp ALERT_FILE [API_KEY HOOK_URL [debug|"" [OPTIONS_FILE|"" [TIMEOUT RETRIES]]]]
  custom-misp check [-config FILE] [-home DIR]
  custom-misp version

The MISP URL and key come from the config file (etc/misp-telegram.toml under
the Wazuh home, or $MISP_TELEGRAM_CONFIG). API_KEY and HOOK_URL from the
<integration> block are used only when the file leaves misp.api_key or
misp.url empty. "debug" in the fourth position turns on debug logging.
TIMEOUT (seconds) caps the run's time budget; RETRIES caps retries.

check prints one OK, WARN or FAIL line per set-up check (config, binary
name and mode, ossec.conf, rules, queue socket, MISP) with the fix, and
exits 1 when any check fails.

EXIT STATUS
  0  done, including alerts with nothing to look up and MISP failures
     (those are reported to Wazuh as misp.error events)
  1  internal error
  2  invalid arguments
  3  config file missing or invalid
  4  alert file missing, not JSON, or in the legacy (non-json) format
  5  events could not be written to the queue socket
`

func main() {
	os.Exit(runMain(os.Args, os.Stdout, os.Stderr))
}

// runMain maps a run to an exit status. It never returns 127, because
// integratord then logs the whole command line, api_key included.
func runMain(argv []string, stdout, stderr io.Writer) (code int) {
	defer func() {
		if recovered := recover(); recovered != nil {
			fmt.Fprintf(stderr, "custom-misp: internal error: %v\n%s", recovered, debug.Stack())
			code = integratord.ExitInternal
		}
	}()

	if len(argv) >= 2 {
		switch argv[1] {
		case "-h", "--help", "help":
			fmt.Fprint(stdout, usage)
			return integratord.ExitOK
		case "version", "--version":
			fmt.Fprintf(stdout, "custom-misp %s\n", version)
			return integratord.ExitOK
		case "check":
			return runCheck(argv[2:], stdout, stderr)
		}
	}

	args, err := integratord.ParseArgs(argv)
	if err != nil {
		fmt.Fprintf(stderr, "custom-misp: %v\n", err)
		return integratord.ExitUsage
	}

	err = run(args, stderr)
	return exitCode(err, stderr)
}

// exitCode prints err as the last line of output, which integratord copies
// into ossec.log, and returns the status for its kind.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return integratord.ExitOK
	}
	fmt.Fprintf(stderr, "custom-misp: %v\n", err)

	var configErr *configError
	var alertErr *alertError
	var queueErr *queueError
	switch {
	case errors.As(err, &configErr):
		return integratord.ExitConfig
	case errors.As(err, &alertErr):
		return integratord.ExitAlert
	case errors.As(err, &queueErr):
		return integratord.ExitQueue
	default:
		return integratord.ExitInternal
	}
}

// configError, alertError and queueError mark what failed, for exitCode.
type (
	configError struct{ err error }
	alertError  struct{ err error }
	queueError  struct{ err error }
)

func (e *configError) Error() string { return e.err.Error() }
func (e *configError) Unwrap() error { return e.err }
func (e *alertError) Error() string  { return e.err.Error() }
func (e *alertError) Unwrap() error  { return e.err }
func (e *queueError) Error() string  { return e.err.Error() }
func (e *queueError) Unwrap() error  { return e.err }
