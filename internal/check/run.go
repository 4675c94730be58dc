package check

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"sync"
	"syscall"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/config"
)

// The programs the self-check supports.
const (
	ProgramMISP     = "custom-misp"
	ProgramTelegram = "custom-telegram"
)

// Options select what Run checks.
type Options struct {
	// Program is ProgramMISP or ProgramTelegram.
	Program string
	// Home is the Wazuh installation directory, holding integrations/,
	// etc/ossec.conf, etc/rules/ and ruleset/rules/.
	Home string
	// ConfigPath is the config file to check.
	ConfigPath string
	// Executable is the path of the running binary (os.Executable).
	Executable string
	// Wazuh is the user and group integratord runs the programs as, from
	// LookupWazuh. Tests set their own.
	Wazuh Identity
	// Root is set when check runs as root. Files are then judged for the
	// wazuh user by their mode bits, because root may access anything.
	Root bool
	// UID is the effective user id check runs as. Unless Root is set, files
	// are judged by access(2) for it, which matches what the programs may
	// do only when it is the wazuh user's id.
	UID int
	// NewTelegramProbe builds the Bot API probe from the loaded config.
	// custom-telegram sets it; nil skips the Telegram checks.
	NewTelegramProbe func(*config.Config) (TelegramProbe, error)
	// SendTest also posts a test message to telegram.chat_id.
	SendTest bool
}

// NewOptions returns the options for checking the running program: home
// defaults to config.Home and configPath to config.DefaultPath(home).
func NewOptions(program, home, configPath string) Options {
	if home == "" {
		home = config.Home()
	}
	if configPath == "" {
		configPath = config.DefaultPath(home)
	}
	executable, err := os.Executable()
	if err != nil {
		executable = os.Args[0]
	}
	return Options{
		Program:    program,
		Home:       home,
		ConfigPath: configPath,
		Executable: executable,
		Wazuh:      LookupWazuh(),
		Root:       os.Geteuid() == 0,
		UID:        os.Geteuid(),
	}
}

// env contains the options and the findings of earlier checks, which later
// checks read.
type env struct {
	Options
	cfg       *config.Config // nil when the config did not load
	blocks    []Integration  // <integration> blocks for this program
	alertGate int            // log_alert_level in effect
	rules     ruleSet        // the rules of etc/rules and ruleset/rules
	// configUnread is set when the config did not load because check runs
	// as a user, other than wazuh, that may not read it. That shows nothing
	// about what the wazuh user may do.
	configUnread bool
}

// Run runs every check for opts.Program in order and returns the results.
// Network checks take their deadlines from the config's timeouts and ctx.
func Run(ctx context.Context, opts Options) []Result {
	var results []Result
	run(ctx, opts, func(r ...Result) { results = append(results, r...) })
	return results
}

// RunInterruptible runs every check like Run, but returns as soon as ctx
// ends, with the results of the checks that finished by then and ctx's
// error. A check blocked in a system call cannot be stopped, so its
// goroutine is left behind: the caller should exit soon after.
func RunInterruptible(ctx context.Context, opts Options) ([]Result, error) {
	var (
		mu      sync.Mutex
		results []Result
	)
	done := make(chan struct{})
	go func() {
		defer close(done)
		run(ctx, opts, func(r ...Result) {
			mu.Lock()
			results = append(results, r...)
			mu.Unlock()
		})
	}()

	select {
	case <-done:
		return results, nil
	case <-ctx.Done():
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(results), ctx.Err()
	}
}

// run runs every check in order and passes each result to emit as soon as
// its check finishes.
func run(ctx context.Context, opts Options, emit func(...Result)) {
	e := &env{Options: opts, alertGate: defaultLogAlertLevel}

	if !e.Wazuh.Known() {
		emit(warn("wazuh user",
			"no wazuh user or group on this host, so what that user may read, write and run was not checked",
			"run check on the Wazuh manager, where integratord runs the programs as wazuh:wazuh"))
	}

	cfg, configResults := checkConfig(e)
	emit(configResults...)
	e.cfg = cfg

	name, binaryResults := checkBinary(e)
	emit(binaryResults...)

	// The block checks compare the filters with the installed rules.
	e.rules = loadRules(e.Home, e.user())
	emit(checkOssecConf(e, name)...)
	emit(checkSecrets(e)...)
	emit(checkPaths(e)...)
	emit(checkRules(e)...)

	// Only custom-misp writes to the queue socket.
	switch e.Program {
	case ProgramMISP:
		emit(checkQueue(e))
		emit(checkMISP(ctx, e)...)
	case ProgramTelegram:
		emit(checkTelegram(ctx, e)...)
	}
}

// usable reports whether the programs will be able to access path with every
// bit of want, and who was judged: the wazuh user by mode bits when check
// runs as root, else the user check runs as by access(2).
func (e *env) usable(path string, info fs.FileInfo, want fs.FileMode) (bool, string) {
	if e.Root {
		if !e.Wazuh.Known() {
			return true, "root"
		}
		return e.Wazuh.can(info, want), "the wazuh user"
	}
	err := syscall.Access(path, uint32(want))
	return err == nil, e.user()
}

// asWazuh reports whether check runs as the wazuh user, so that what the
// kernel allows check is what it allows the programs.
func (e *env) asWazuh() bool {
	return !e.Root && e.Wazuh.UID >= 0 && e.UID == e.Wazuh.UID
}

// judgesForWazuh reports whether an access error that check meets is one
// the programs meet too: check runs as root and judges the wazuh user by
// mode bits, or it runs as the wazuh user.
func (e *env) judgesForWazuh() bool {
	return e.Root || e.asWazuh()
}

// user names the user check runs as, for messages about what it could not
// access.
func (e *env) user() string {
	switch {
	case e.Root:
		return "root"
	case e.asWazuh():
		return fmt.Sprintf("the wazuh user (uid %d)", e.UID)
	}
	return fmt.Sprintf("the current user (uid %d)", e.UID)
}

// denied reports that a file the programs use cannot be accessed. It fails
// when check judges for the wazuh user, because the programs then meet the
// same error. Otherwise it only shows what another user may not do, so it
// warns and gives the command that checks for the wazuh user.
func (e *env) denied(name, detail, fix string) Result {
	if e.judgesForWazuh() {
		return fail(name, detail, fix)
	}
	return warn(name, detail+", so whether the wazuh user has access was not checked",
		fmt.Sprintf("run check as root or as the wazuh user (sudo -u wazuh %s check)", e.Executable))
}

// unreachable reports a file that stat(2) may not reach, because check
// may not search a directory above it.
func (e *env) unreachable(name, path, fix string) Result {
	return e.denied(name, fmt.Sprintf("%s cannot reach %s (permission denied)", e.user(), path), fix)
}

// fallbackConfig returns the defaults with paths under home, for the checks
// that still make sense when the config file did not load.
func fallbackConfig(home string) *config.Config {
	cfg := config.Default()
	cfg.Wazuh.Home = home
	cfg.Wazuh.QueueSocket = cfg.Abs(cfg.Wazuh.QueueSocket)
	cfg.Wazuh.LogFile = cfg.Abs(cfg.Wazuh.LogFile)
	cfg.Wazuh.StateDir = cfg.Abs(cfg.Wazuh.StateDir)
	cfg.Telegram.Template = cfg.Abs(cfg.Telegram.Template)
	return &cfg
}

// paths returns the loaded config, or the defaults under the home.
func (e *env) paths() *config.Config {
	if e.cfg != nil {
		return e.cfg
	}
	return fallbackConfig(e.Home)
}
