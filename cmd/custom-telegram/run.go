package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/alert"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/config"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/integratord"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/render"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/storm"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/telegram"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/wazuh"
)

const program = "custom-telegram"

// configError marks a config or template problem (exit status 3).
type configError struct{ err error }

func (e *configError) Error() string { return e.err.Error() }
func (e *configError) Unwrap() error { return e.err }

// alertError marks an unusable alert file (exit status 4).
type alertError struct{ err error }

func (e *alertError) Error() string { return e.err.Error() }
func (e *alertError) Unwrap() error { return e.err }

// tokenPattern matches a bot token as @BotFather issues it: the bot's
// numeric id, a colon, and 35 URL-safe characters (30 or more accepted).
var tokenPattern = regexp.MustCompile(`^[0-9]{5,}:[A-Za-z0-9_-]{30,}$`)

// deps is what one run needs, built from argv and the config.
type deps struct {
	args      integratord.Args
	log       *slog.Logger
	logFile   *os.File
	budget    time.Duration
	eventBase string
	filter    telegram.Filter
	deliverer *telegram.Deliverer
}

func (d *deps) close() {
	if d.logFile != nil {
		d.logFile.Close()
	}
}

// summary is the run's outcome for the summary log line.
type summary struct {
	alertID, ruleID string
	outcome         string
	reason          string // the filter that skipped the alert
	sent, pending   int
}

// setup parses argv, loads the config and the template and builds the
// delivery chain. Before the config names the log file, problems are logged
// to the default integrations.log when it can be opened.
func setup(argv []string, stderr io.Writer) (*deps, error) {
	args, err := integratord.ParseArgs(argv)
	if err != nil {
		return nil, err
	}
	home := config.Home()
	cfg, err := config.Load(config.DefaultPath(home), home)
	if err == nil {
		err = cfg.RequireTelegram()
	}
	if err != nil {
		return fallbackDeps(home, args), &configError{err}
	}

	d := &deps{args: args}
	d.log, d.logFile = openLog(cfg.Wazuh.LogFile, args.Debug || cfg.Wazuh.Debug, stderr)
	for _, warning := range cfg.Warnings {
		d.log.Warn(warning)
	}
	if tokenPattern.MatchString(args.HookURL.Reveal()) {
		d.log.Warn("hook_url in the <integration> block looks like a bot token, and integratord exposes its arguments: move the token to telegram.bot_token_file in the config and remove <hook_url> from ossec.conf")
	}

	tmpl, err := render.ParseFile(cfg.Telegram.Template)
	if err != nil {
		return d, &configError{err}
	}
	client, err := telegram.NewClient(telegram.OptionsFromConfig(cfg.Telegram))
	if err != nil {
		return d, &configError{fmt.Errorf("config %s: %w", cfg.Path, err)}
	}

	d.budget = cfg.Telegram.Budget.D()
	if args.Timeout > 0 && args.Timeout < d.budget {
		d.budget = args.Timeout
	}
	d.eventBase = cfg.MISP.EventURL
	if d.eventBase == "" {
		d.eventBase = cfg.MISP.URL
	}
	t := cfg.Telegram
	d.filter = telegram.Filter{MinLevel: t.MinLevel, RuleIDs: t.RuleIDs, IncludeGroups: t.IncludeGroups, ExcludeGroups: t.ExcludeGroups}
	d.deliverer = &telegram.Deliverer{
		Sender: client,
		Store:  storm.NewStore(cfg.Wazuh.StateDir, d.log),
		Limits: storm.Limits{RatePerMinute: t.RatePerMinute, Burst: t.Burst, DedupeWindow: t.DedupeWindow.D(), MaxPending: t.MaxPending},
		Target: telegram.Target{
			ChatID:              string(t.ChatID),
			ThreadID:            t.MessageThreadID,
			DisableNotification: t.DisableNotification,
			DisableLinkPreview:  t.DisableLinkPreview,
		},
		Render: renderFunc(tmpl, d.log),
		Log:    d.log,
	}
	return d, nil
}

// fallbackDeps returns a logger on the default log file, for reporting a
// config error, or nil when that file does not exist. It never creates the
// file, because a wrong Wazuh home would put it in a random place.
func fallbackDeps(home string, args integratord.Args) *deps {
	path := config.Default().Wazuh.LogFile
	if !filepath.IsAbs(path) {
		path = filepath.Join(home, path)
	}
	if _, err := os.Stat(path); err != nil {
		return nil
	}
	file, err := wazuh.OpenLogFile(path)
	if err != nil {
		return nil
	}
	level := slog.LevelInfo
	if args.Debug {
		level = slog.LevelDebug
	}
	return &deps{args: args, log: wazuh.NewLogger(file, program, level), logFile: file}
}

// openLog opens the integrations log, or logs to stderr when it cannot be
// opened, saying so there.
func openLog(path string, debug bool, stderr io.Writer) (*slog.Logger, *os.File) {
	level := slog.LevelInfo
	if debug {
		level = slog.LevelDebug
	}
	file, err := wazuh.OpenLogFile(path)
	if err != nil {
		log := wazuh.NewLogger(stderr, program, level)
		log.Warn("cannot open the log file, logging to stderr", "error", err)
		return log, nil
	}
	return wazuh.NewLogger(file, program, level), file
}

// run handles one alert.
func run(ctx context.Context, d *deps) (summary, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, d.budget, fmt.Errorf("telegram.budget of %s used up", d.budget))
	defer cancel()
	var sum summary

	data, err := integratord.ReadAlertFile(d.args.AlertFile)
	if err != nil {
		return sum, &alertError{err}
	}
	a, err := alert.Decode(data)
	if err != nil {
		return sum, &alertError{fmt.Errorf("alert file %s: %w", d.args.AlertFile, err)}
	}
	sum.alertID, sum.ruleID = a.ID, a.Rule.ID

	if reason := d.filter.Skip(a); reason != "" {
		sum.outcome, sum.reason = "filtered", reason
		return sum, nil
	}

	payload, err := json.Marshal(render.NewData(a, d.eventBase))
	if err != nil {
		return sum, fmt.Errorf("encode template data: %w", err)
	}
	res, err := d.deliverer.Deliver(ctx, telegram.Item{
		AlertID:   a.ID,
		RuleID:    a.Rule.ID,
		DedupeKey: dedupeKey(a),
		Payload:   payload,
	})
	sum.outcome, sum.sent, sum.pending = string(res.Outcome), res.Sent, res.Pending
	return sum, err
}

// dedupeKey is the rule id, the indicator and the agent id. An alert
// without an indicator is never treated as a repeat.
func dedupeKey(a *alert.Alert) string {
	value, _ := a.String("data", "misp", "value")
	if value == "" {
		value, _ = a.String("data", "misp", "attribute_value")
	}
	if value == "" {
		return ""
	}
	return storm.Key(a.Rule.ID, value, a.Agent.ID)
}

// renderFunc renders queued template data with the suppressed counts.
func renderFunc(tmpl *render.Template, log *slog.Logger) telegram.RenderFunc {
	return func(payload json.RawMessage, note storm.Suppressed) (telegram.Content, error) {
		var data render.Data
		if err := json.Unmarshal(payload, &data); err != nil {
			return telegram.Content{}, fmt.Errorf("decode queued template data: %w", err)
		}
		data.Sanitize()
		data.Suppressed = render.NewSuppressed(note.Deduped, note.Dropped, note.Since)

		m := tmpl.Render(&data)
		log.Debug("message rendered", "text_len", len(m.Text), "plain_len", len(m.Plain))
		if m.Shortened {
			log.Warn("alert values shortened to fit Telegram's message limits", "max_value_runes", render.MaxValueRunes)
		}
		if m.Err != nil {
			log.Warn("template output cannot be sent as MarkdownV2: sending plain text", "error", m.Err)
			return telegram.Content{Plain: m.Plain}, nil
		}
		return telegram.Content{Markdown: m.Text, Plain: m.Plain}, nil
	}
}

// logSummary writes the run's one summary line: Info, or Debug for a
// filtered alert, or Error with the cause when the exit status is not 0.
func logSummary(log *slog.Logger, sum summary, status int, err error, elapsed time.Duration) {
	attrs := []any{
		"alert_id", sum.alertID,
		"rule_id", sum.ruleID,
		"outcome", sum.outcome,
		"sent", sum.sent,
		"pending", sum.pending,
		"exit_status", status,
		"duration_ms", elapsed.Milliseconds(),
	}
	switch {
	case err != nil:
		log.Error("run failed", append(attrs, "error", err)...)
	case sum.outcome == "filtered":
		log.Debug("alert filtered out", append(attrs, "reason", sum.reason)...)
	default:
		log.Info("run finished", attrs...)
	}
}
