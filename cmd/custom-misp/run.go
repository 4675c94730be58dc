package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/alert"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/breaker"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/cache"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/config"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/event"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/indicator"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/integratord"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/lookup"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/misp"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/spool"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/wazuh"
)

const (
	program     = "custom-misp"
	integration = "misp"
	// maxSendTime bounds the queue write after the lookups. It is taken out
	// of the run's budget, so the lookups stop early enough to leave it.
	maxSendTime = 500 * time.Millisecond
)

// run handles one alert: load the config, read the alert, look its
// indicators up, and send the events.
func run(args integratord.Args, stderr io.Writer) error {
	start := time.Now()

	home := config.Home()
	cfg, err := config.Load(config.DefaultPath(home), home)
	if err != nil {
		return &configError{err}
	}

	log, closeLog := openLogger(cfg, args.Debug, stderr)
	defer closeLog()
	for _, warning := range cfg.Warnings {
		log.Warn(warning)
	}
	if args.APIKey.IsSet() && !cfg.MISP.APIKey.IsSet() {
		cfg.MISP.APIKey = args.APIKey
		log.Info("misp.api_key is empty in the config: using the integration's <api_key>")
	}
	if args.HookURL.IsSet() && cfg.MISP.URL == "" {
		cfg.MISP.URL = args.HookURL.Reveal()
		log.Info("misp.url is empty in the config: using the integration's <hook_url>")
	}
	if err := cfg.RequireMISP(); err != nil {
		log.Error("invalid configuration", "error", err)
		return &configError{err}
	}

	data, err := integratord.ReadAlertFile(args.AlertFile)
	if err != nil {
		log.Error("cannot read the alert", "error", err)
		return &alertError{err}
	}
	a, err := alert.Decode(data)
	if err != nil {
		err = fmt.Errorf("alert file %s: %w", args.AlertFile, err)
		log.Error("cannot decode the alert", "error", err)
		return &alertError{err}
	}
	log = log.With("alert_id", a.ID, "rule_id", a.Rule.ID, "agent_id", a.Agent.ID)

	// Most alerts carry nothing to look up: leave before touching MISP or
	// any state file, and quietly, because integratord runs this for every
	// alert its filter lets through.
	inds := indicator.Extract(a)
	if len(inds) == 0 {
		log.Debug("no indicators in this alert")
		return nil
	}

	budget := cfg.MISP.Budget.D()
	if args.Timeout > 0 && args.Timeout < budget {
		budget = args.Timeout
	}
	retries := cfg.MISP.Retries
	if args.Retries >= 0 && args.Retries < retries {
		retries = args.Retries
	}
	sendTime := min(maxSendTime, budget/5)
	ctx, cancel := context.WithDeadline(context.Background(), start.Add(budget-sendTime))
	defer cancel()

	engine, err := newEngine(cfg, log, retries, budget)
	if err != nil {
		log.Error("invalid MISP settings", "error", err)
		sendConfigFailure(cfg, a, err, log)
		return &configError{err}
	}

	result := engine.ProcessIndicators(ctx, a, inds)

	sendCtx, cancelSend := context.WithTimeout(context.Background(), sendTime)
	defer cancelSend()
	sendErr := send(sendCtx, cfg, result.Events)

	log.Info("lookup finished",
		"indicators", result.Indicators, "cache_hits", result.CacheHits, "matches", result.Matches,
		"failure", result.Failure, "spooled", result.Spooled, "replayed", result.Replayed,
		"events", len(result.Events), "duration_ms", time.Since(start).Milliseconds())
	if sendErr != nil {
		log.Error("events not delivered to Wazuh", "events", len(result.Events), "error", sendErr)
		return &queueError{sendErr}
	}
	return nil
}

func openLogger(cfg *config.Config, debug bool, stderr io.Writer) (*slog.Logger, func()) {
	level := slog.LevelInfo
	if debug || cfg.Wazuh.Debug {
		level = slog.LevelDebug
	}
	file, err := wazuh.OpenLogFile(cfg.Wazuh.LogFile)
	if err != nil {
		// stderr reaches ossec.log only at integratord debug level 2, but it
		// is better than nothing, and the failure itself is printed there.
		log := wazuh.NewLogger(stderr, program, level)
		log.Warn("cannot open the log file, logging to stderr", "path", cfg.Wazuh.LogFile, "error", err)
		return log, func() {}
	}
	return wazuh.NewLogger(file, program, level), func() { file.Close() }
}

func newEngine(cfg *config.Config, log *slog.Logger, retries int, budget time.Duration) (*lookup.Engine, error) {
	opts := misp.OptionsFromConfig(cfg.MISP, program+"/"+version, log)
	client, err := misp.New(opts)
	if err != nil {
		return nil, err
	}

	engine := &lookup.Engine{
		Searcher:       client,
		Log:            log,
		Filters:        opts.Filters,
		EventURLBase:   eventURLBase(cfg),
		RequestTimeout: min(cfg.MISP.Timeout.D(), budget),
		Retries:        retries,
		EventLimit:     eventLimit,
		Now:            time.Now,
	}

	stateDir := cfg.Wazuh.StateDir
	engine.Breaker, err = breaker.Open(stateDir, breaker.Settings{
		Name:           integration,
		FailuresToOpen: cfg.Breaker.Failures,
		OpenFor:        cfg.Breaker.OpenFor.D(),
		HalfOpenProbes: cfg.Breaker.HalfOpenProbes,
		// Another run may hold the state lock for its whole MISP request;
		// waiting for it must not use up this run's budget.
		LockTimeout: min(2*time.Second, budget/4),
	}, log)
	if err != nil {
		log.Warn("circuit breaker unavailable, asking MISP without it", "path", stateDir, "error", err)
		engine.Breaker = nil
	}
	if cfg.Cache.Enabled {
		engine.Cache = cache.New(stateDir, cache.Settings{
			HitTTL: cfg.Cache.HitTTL.D(), MissTTL: cfg.Cache.MissTTL.D(), MaxEntries: cfg.Cache.MaxEntries,
		}, time.Now)
	}
	if cfg.Spool.Enabled {
		engine.Spool = spool.New(stateDir, spool.Settings{
			MaxRecords: cfg.Spool.MaxRecords, MaxAge: cfg.Spool.MaxAge.D(),
		}, time.Now, log)
	}
	return engine, nil
}

func eventURLBase(cfg *config.Config) string {
	if cfg.MISP.EventURL != "" {
		return cfg.MISP.EventURL
	}
	return cfg.MISP.URL
}

// eventLimit leaves room in each datagram for the queue header.
func eventLimit(agent event.Agent) int {
	header := wazuh.Message(wazuh.Location(agent.ID, agent.Name, agent.IP, integration), nil)
	return wazuh.MaxMessageSize - len(header)
}

func send(ctx context.Context, cfg *config.Config, events []lookup.Event) error {
	if len(events) == 0 {
		return nil
	}
	messages := make([][]byte, 0, len(events))
	for _, e := range events {
		location := wazuh.Location(e.Agent.ID, e.Agent.Name, e.Agent.IP, integration)
		messages = append(messages, wazuh.Message(location, e.Payload))
	}
	deadline, _ := ctx.Deadline()
	queue := wazuh.Queue{Path: cfg.Wazuh.QueueSocket, Timeout: time.Until(deadline)}
	return queue.Send(ctx, messages...)
}

// sendConfigFailure reports settings that stop every lookup (an unreadable
// CA file, say) as a misp.error event, so that the problem shows in Wazuh too.
func sendConfigFailure(cfg *config.Config, a *alert.Alert, cause error, log *slog.Logger) {
	source := event.SourceOf(a)
	payload, err := event.EncodeFailure(event.Failure{
		Kind:    string(misp.KindConfig),
		Message: cause.Error(),
		Hint:    "fix the [misp] settings in " + filepath.Base(cfg.Path) + "; custom-misp check names the problem",
		Source:  source,
	}, eventLimit(source.Agent))
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), maxSendTime)
	defer cancel()
	if err := send(ctx, cfg, []lookup.Event{{Agent: source.Agent, Payload: payload}}); err != nil {
		log.Error("events not delivered to Wazuh", "events", 1, "error", err)
	}
}
