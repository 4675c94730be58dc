// Command custom-telegram sends Wazuh alerts about MISP matches to a
// Telegram chat. wazuh-integratord runs it once per alert; see usage.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/integratord"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/telegram"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `Usage:
  custom-telegram ALERT_FILE [API_KEY HOOK_URL [debug] [OPTIONS_FILE] [TIMEOUT RETRIES]]
  custom-telegram check [-config FILE] [-home DIR] [-send-test]
  custom-telegram version

Sends a Wazuh alert about a MISP match (rules 920100-920103 by default) to a
Telegram chat, rendered with the MarkdownV2 template set in the config.
wazuh-integratord runs it once per alert with the argument layout of its
version. API_KEY, HOOK_URL and RETRIES are not used. TIMEOUT (Wazuh 4.8 and
later, in seconds) shortens telegram.budget, the time limit of the run, when
it is smaller.

Settings come from the [telegram] table of etc/misp-telegram.toml under the
Wazuh home, or from the file named by $MISP_TELEGRAM_CONFIG. The bot token is
read only from there (bot_token or bot_token_file), never from arguments.
Logs go to logs/integrations.log; "debug" as the fourth argument or
wazuh.debug = true adds debug lines.

Commands:
  check     checks the configuration, the template, ossec.conf, the rules and
            the bot token (getMe); -send-test also posts a test message to
            the chat. Exits 1 when any check fails.
  version   prints the version

EXIT STATUS
  0  sent, queued for a later run, counted as a repeat, or filtered out
  1  internal error (a bug): see the log
  2  invalid arguments
  3  config file or template missing or invalid
  4  alert file missing, not JSON, or in the legacy key='value' format
  6  Telegram rejected the request for good (token, chat, topic, permissions)
     or this alert's message; the log line names the setting to fix. Also
     when the message was not sent and the state file var/misp-telegram/
     telegram.json cannot be used to keep it
`

func main() {
	os.Exit(realMain(os.Args, os.Stdout, os.Stderr))
}

// realMain runs the program and returns its exit status. It never returns
// 127, which makes integratord log the whole command line.
func realMain(argv []string, stdout, stderr io.Writer) (status int) {
	if len(argv) > 1 {
		switch argv[1] {
		case "-h", "-help", "--help", "help":
			fmt.Fprint(stdout, usage)
			return integratord.ExitOK
		case "version", "--version":
			fmt.Fprintln(stdout, "custom-telegram", version)
			return integratord.ExitOK
		case "check":
			return runCheck(argv[2:])
		}
	}

	var log *slog.Logger
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintln(stderr, "custom-telegram: internal error, see the integrations log")
			if log != nil {
				log.Error("internal error", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			}
			status = integratord.ExitInternal
		}
	}()

	start := time.Now()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	deps, err := setup(argv, stderr)
	if deps != nil {
		defer deps.close()
		log = deps.log
	}
	var sum summary
	if err == nil {
		sum, err = run(ctx, deps)
	}

	status = exitStatus(err)
	if err != nil {
		fmt.Fprintln(stderr, "custom-telegram:", err)
	}
	if log != nil {
		logSummary(log, sum, status, err, time.Since(start))
	}
	return status
}

// exitStatus maps an error from setup or run to the exit status.
func exitStatus(err error) int {
	var cfgErr *configError
	var alertErr *alertError
	var tgErr *telegram.Error
	switch {
	case err == nil:
		return integratord.ExitOK
	case errors.Is(err, integratord.ErrUsage):
		return integratord.ExitUsage
	case errors.As(err, &cfgErr):
		return integratord.ExitConfig
	case errors.As(err, &alertErr):
		return integratord.ExitAlert
	case errors.Is(err, telegram.ErrNotKept), errors.As(err, &tgErr):
		return integratord.ExitDelivery
	default:
		return integratord.ExitInternal
	}
}
