package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/secret"
)

// FileName is the config file's name under the Wazuh home's etc/ directory.
const FileName = "misp-telegram.toml"

// maxFileSize bounds the config file and the secret files. The example
// config is about 7 kB.
const maxFileSize = 1 << 20

// EnvConfig and EnvHome override the config file path and the Wazuh home,
// for manual runs and tests. integratord passes neither.
const (
	EnvConfig = "MISP_TELEGRAM_CONFIG"
	EnvHome   = "WAZUH_HOME"
)

// Config is the whole file. Each field matches one TOML table.
type Config struct {
	Wazuh    Wazuh    `toml:"wazuh"`
	MISP     MISP     `toml:"misp"`
	Breaker  Breaker  `toml:"breaker"`
	Cache    Cache    `toml:"cache"`
	Spool    Spool    `toml:"spool"`
	Telegram Telegram `toml:"telegram"`

	// Path is the file the config was read from ("" for defaults only).
	Path string `toml:"-"`
	// Warnings lists problems that do not stop the program (a world-readable
	// file, TLS verification turned off). Callers log each one.
	Warnings []string `toml:"-"`
}

// Wazuh locates the manager's files. Relative paths are under Home.
type Wazuh struct {
	Home        string `toml:"home"`
	QueueSocket string `toml:"queue_socket"`
	LogFile     string `toml:"log_file"`
	StateDir    string `toml:"state_dir"`
	Debug       bool   `toml:"debug"`
}

// MISP configures the lookup: where, with which key, and which attributes count.
type MISP struct {
	URL                string        `toml:"url"`
	APIKey             secret.String `toml:"api_key"`
	APIKeyFile         string        `toml:"api_key_file"`
	AuthHeader         string        `toml:"auth_header"`
	CAFile             string        `toml:"ca_file"`
	InsecureSkipVerify bool          `toml:"insecure_skip_verify"`
	Timeout            Duration      `toml:"timeout"`
	Budget             Duration      `toml:"budget"`
	Retries            int           `toml:"retries"`
	ToIDS              bool          `toml:"to_ids"`
	Published          bool          `toml:"published"`
	EnforceWarninglist bool          `toml:"enforce_warninglist"`
	MaxAge             Duration      `toml:"max_age"`
	Tags               []string      `toml:"tags"`
	ExcludeTags        []string      `toml:"exclude_tags"`
	Limit              int           `toml:"limit"`
	EventURL           string        `toml:"event_url"`
}

// Breaker configures the circuit breaker in front of MISP.
type Breaker struct {
	Failures       uint32   `toml:"failures"`
	OpenFor        Duration `toml:"open_for"`
	HalfOpenProbes uint32   `toml:"half_open_probes"`
}

// Cache configures the on-disk cache of lookup results.
type Cache struct {
	Enabled    bool     `toml:"enabled"`
	HitTTL     Duration `toml:"hit_ttl"`
	MissTTL    Duration `toml:"miss_ttl"`
	MaxEntries int      `toml:"max_entries"`
}

// Spool configures the queue of lookups owed while MISP is unavailable.
type Spool struct {
	Enabled    bool     `toml:"enabled"`
	MaxRecords int      `toml:"max_records"`
	MaxAge     Duration `toml:"max_age"`
}

// Telegram configures custom-telegram.
type Telegram struct {
	BotToken            secret.String `toml:"bot_token"`
	BotTokenFile        string        `toml:"bot_token_file"`
	ChatID              ChatID        `toml:"chat_id"`
	MessageThreadID     int64         `toml:"message_thread_id"`
	APIURL              string        `toml:"api_url"`
	ProxyURL            string        `toml:"proxy_url"`
	Timeout             Duration      `toml:"timeout"`
	Budget              Duration      `toml:"budget"`
	Template            string        `toml:"template"`
	DisableNotification bool          `toml:"disable_notification"`
	DisableLinkPreview  bool          `toml:"disable_link_preview"`
	MinLevel            int           `toml:"min_level"`
	RuleIDs             []string      `toml:"rule_ids"`
	IncludeGroups       []string      `toml:"include_groups"`
	ExcludeGroups       []string      `toml:"exclude_groups"`
	RatePerMinute       int           `toml:"rate_per_minute"`
	Burst               int           `toml:"burst"`
	DedupeWindow        Duration      `toml:"dedupe_window"`
	MaxPending          int           `toml:"max_pending"`
}

// Default returns every default in one place. Load decodes the file over it.
func Default() Config {
	return Config{
		Wazuh: Wazuh{
			QueueSocket: "queue/sockets/queue",
			LogFile:     "logs/integrations.log",
			StateDir:    "var/misp-telegram",
		},
		MISP: MISP{
			AuthHeader:         "Authorization",
			Timeout:            Duration(5 * time.Second),
			Budget:             Duration(8 * time.Second),
			Retries:            1,
			ToIDS:              true,
			Published:          true,
			EnforceWarninglist: true,
			Limit:              50,
		},
		Breaker: Breaker{
			Failures:       5,
			OpenFor:        Duration(60 * time.Second),
			HalfOpenProbes: 1,
		},
		Cache: Cache{
			Enabled:    true,
			HitTTL:     Duration(time.Hour),
			MissTTL:    Duration(10 * time.Minute),
			MaxEntries: 10000,
		},
		Spool: Spool{
			Enabled:    true,
			MaxRecords: 1000,
			MaxAge:     Duration(24 * time.Hour),
		},
		Telegram: Telegram{
			APIURL:             "https://api.telegram.org",
			Timeout:            Duration(5 * time.Second),
			Budget:             Duration(8 * time.Second),
			Template:           "etc/misp-telegram/templates/misp_alert.en.md.tmpl",
			DisableLinkPreview: true,
			RuleIDs:            []string{"920100", "920101", "920102", "920103"},
			RatePerMinute:      20,
			Burst:              5,
			DedupeWindow:       Duration(10 * time.Minute),
			MaxPending:         200,
		},
	}
}

// Home returns the Wazuh installation directory: $WAZUH_HOME when set, else
// the parent of the directory holding the running binary when that
// directory is named "integrations" (where integratord runs it from), else
// the working directory (integratord chdirs to the Wazuh home).
func Home() string {
	if home := os.Getenv(EnvHome); home != "" {
		return home
	}
	if exe, err := os.Executable(); err == nil {
		if real, err := filepath.EvalSymlinks(exe); err == nil {
			exe = real
		}
		dir := filepath.Dir(exe)
		if filepath.Base(dir) == "integrations" {
			return filepath.Dir(dir)
		}
	}
	if wd, err := os.Getwd(); err == nil {
		return wd
	}
	return "/var/ossec"
}

// DefaultPath returns $MISP_TELEGRAM_CONFIG when set, else etc/misp-telegram.toml under home.
func DefaultPath(home string) string {
	if path := os.Getenv(EnvConfig); path != "" {
		return path
	}
	return filepath.Join(home, "etc", FileName)
}

// Load reads the file at path over the defaults and validates what both
// programs need. home fills [wazuh] home when the file leaves it empty.
func Load(path, home string) (*Config, error) {
	cfg := Default()
	cfg.Path = path

	info, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("config file %s not found: copy config.example.toml there (make install does) or set %s", path, EnvConfig)
		}
		return nil, fmt.Errorf("read config %s: %w", path, err)
	}
	warnings, err := checkPermissions(path, info)
	if err != nil {
		return nil, err
	}
	cfg.Warnings = append(cfg.Warnings, warnings...)

	meta, err := toml.DecodeFile(path, &cfg)
	if err != nil {
		return nil, fmt.Errorf("parse config %s: %w", path, err)
	}
	if undecoded := meta.Undecoded(); len(undecoded) > 0 {
		return nil, unknownKeysError(path, undecoded)
	}

	if cfg.Wazuh.Home == "" {
		cfg.Wazuh.Home = home
	}
	cfg.resolvePaths()

	if err := cfg.loadSecrets(); err != nil {
		return nil, err
	}
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	if cfg.MISP.InsecureSkipVerify {
		cfg.Warnings = append(cfg.Warnings, "misp.insecure_skip_verify is true: the MISP certificate is not verified, so anyone on the network path can read the API key; set misp.ca_file instead")
	}
	return &cfg, nil
}

// checkPermissions rejects a config file that group or others can write,
// because it holds the MISP key and the bot token and decides where the
// programs send data, and warns when others can read it.
func checkPermissions(path string, info fs.FileInfo) ([]string, error) {
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("config %s is not a regular file", path)
	}
	if info.Size() > maxFileSize {
		return nil, fmt.Errorf("config %s has %d bytes, more than the %d a config file can have", path, info.Size(), maxFileSize)
	}
	mode := info.Mode().Perm()
	if mode&0o022 != 0 {
		return nil, fmt.Errorf("config %s is writable by group or others (mode %04o): run chmod 0640 %s and chown root:wazuh %s", path, mode, path, path)
	}
	if mode&0o004 != 0 {
		return []string{fmt.Sprintf("config %s is readable by others (mode %04o) and holds secrets: run chmod 0640 %s", path, mode, path)}, nil
	}
	return nil, nil
}

// Abs returns p under the Wazuh home unless it is absolute.
func (c *Config) Abs(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.Wazuh.Home, p)
}

func (c *Config) resolvePaths() {
	c.Wazuh.QueueSocket = c.Abs(c.Wazuh.QueueSocket)
	c.Wazuh.LogFile = c.Abs(c.Wazuh.LogFile)
	c.Wazuh.StateDir = c.Abs(c.Wazuh.StateDir)
	c.MISP.APIKeyFile = c.Abs(c.MISP.APIKeyFile)
	c.MISP.CAFile = c.Abs(c.MISP.CAFile)
	c.Telegram.BotTokenFile = c.Abs(c.Telegram.BotTokenFile)
	c.Telegram.Template = c.Abs(c.Telegram.Template)
}

func (c *Config) loadSecrets() error {
	key, err := readSecret("misp.api_key", c.MISP.APIKey, c.MISP.APIKeyFile)
	if err != nil {
		return err
	}
	c.MISP.APIKey = key

	token, err := readSecret("telegram.bot_token", c.Telegram.BotToken, c.Telegram.BotTokenFile)
	if err != nil {
		return err
	}
	c.Telegram.BotToken = token
	return nil
}

// readSecret returns inline, or the trimmed content of file. Setting both is
// an error so that nobody edits the one that is not used.
func readSecret(key string, inline secret.String, file string) (secret.String, error) {
	if file == "" {
		return secret.String(strings.TrimSpace(inline.Reveal())), nil
	}
	if inline.IsSet() {
		return "", fmt.Errorf("both %s and %s_file are set: keep only one", key, key)
	}
	info, err := os.Stat(file)
	if err != nil {
		return "", fmt.Errorf("read %s_file %s: %w", key, file, err)
	}
	if !info.Mode().IsRegular() || info.Size() > maxFileSize {
		return "", fmt.Errorf("%s_file %s is not a regular file of at most %d bytes", key, file, maxFileSize)
	}
	if info.Mode().Perm()&0o022 != 0 {
		return "", fmt.Errorf("%s_file %s is writable by group or others (mode %04o): run chmod 0640 %s", key, file, info.Mode().Perm(), file)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("read %s_file %s: %w", key, file, err)
	}
	value := strings.TrimSpace(string(data))
	if value == "" {
		return "", fmt.Errorf("%s_file %s is empty", key, file)
	}
	return secret.String(value), nil
}

func (c *Config) validate() error {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	if c.MISP.URL != "" {
		if err := validateHTTPURL(c.MISP.URL); err != nil {
			add("misp.url %q: %v", displayURL(c.MISP.URL), err)
		}
	}
	if c.MISP.EventURL != "" {
		if err := validateHTTPURL(c.MISP.EventURL); err != nil {
			add("misp.event_url %q: %v", displayURL(c.MISP.EventURL), err)
		}
	}
	switch c.MISP.AuthHeader {
	case "Authorization", "X-MISP-AUTH":
	default:
		add("misp.auth_header %q is not supported: use \"Authorization\" or \"X-MISP-AUTH\"", c.MISP.AuthHeader)
	}
	if c.MISP.Timeout.D() < 100*time.Millisecond {
		add("misp.timeout %s is too short: use at least \"100ms\"", c.MISP.Timeout.D())
	}
	if c.MISP.Budget.D() < c.MISP.Timeout.D() {
		add("misp.budget %s is shorter than misp.timeout %s: the budget covers the whole run, so make it at least as long", c.MISP.Budget.D(), c.MISP.Timeout.D())
	}
	if c.MISP.Retries < 0 || c.MISP.Retries > 5 {
		add("misp.retries %d is out of range: use 0 to 5", c.MISP.Retries)
	}
	if c.MISP.Limit < 1 || c.MISP.Limit > 1000 {
		add("misp.limit %d is out of range: use 1 to 1000", c.MISP.Limit)
	}
	if c.Breaker.Failures < 1 {
		add("breaker.failures must be at least 1")
	}
	if c.Breaker.OpenFor.D() < time.Second {
		add("breaker.open_for %s is too short: use at least \"1s\"", c.Breaker.OpenFor.D())
	}
	if c.Breaker.HalfOpenProbes < 1 {
		add("breaker.half_open_probes must be at least 1")
	}
	if c.Cache.MaxEntries < 1 {
		add("cache.max_entries must be at least 1")
	}
	if c.Spool.MaxRecords < 1 {
		add("spool.max_records must be at least 1")
	}
	if c.Telegram.ChatID.IsSet() {
		if err := c.Telegram.ChatID.validate(); err != nil {
			add("%v", err)
		}
	}
	if c.Telegram.MessageThreadID < 0 || c.Telegram.MessageThreadID == 1 {
		add("telegram.message_thread_id %d is invalid: use the topic's id, or 0 for the General topic (Telegram rejects 1)", c.Telegram.MessageThreadID)
	}
	if err := validateHTTPURL(c.Telegram.APIURL); err != nil {
		add("telegram.api_url %q: %v", displayURL(c.Telegram.APIURL), err)
	}
	if c.Telegram.ProxyURL != "" {
		if u, err := url.Parse(c.Telegram.ProxyURL); err != nil || u.Host == "" {
			add("telegram.proxy_url %q is not a URL: use for example \"http://proxy.example:3128\"", displayURL(c.Telegram.ProxyURL))
		}
	}
	if c.Telegram.Timeout.D() < 100*time.Millisecond {
		add("telegram.timeout %s is too short: use at least \"100ms\"", c.Telegram.Timeout.D())
	}
	if c.Telegram.Budget.D() < c.Telegram.Timeout.D() {
		add("telegram.budget %s is shorter than telegram.timeout %s", c.Telegram.Budget.D(), c.Telegram.Timeout.D())
	}
	if c.Telegram.RatePerMinute < 1 {
		add("telegram.rate_per_minute must be at least 1 (Telegram allows about 20 messages per minute in a group)")
	}
	if c.Telegram.Burst < 1 {
		add("telegram.burst must be at least 1")
	}
	if c.Telegram.MaxPending < 0 {
		add("telegram.max_pending must not be negative")
	}

	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// RequireMISP checks what custom-misp needs beyond the shared validation.
func (c *Config) RequireMISP() error {
	if c.MISP.URL == "" {
		return fmt.Errorf("config %s: misp.url is missing: set it to your MISP base URL, for example \"https://misp.example.org\"", c.Path)
	}
	if !c.MISP.APIKey.IsSet() {
		return fmt.Errorf("config %s: misp.api_key is missing: set misp.api_key or misp.api_key_file (the integration's api_key is used only as a fallback)", c.Path)
	}
	return nil
}

// RequireTelegram checks what custom-telegram needs beyond the shared validation.
func (c *Config) RequireTelegram() error {
	if !c.Telegram.BotToken.IsSet() {
		return fmt.Errorf("config %s: telegram.bot_token is missing: set telegram.bot_token or telegram.bot_token_file", c.Path)
	}
	if !c.Telegram.ChatID.IsSet() {
		return fmt.Errorf("config %s: telegram.chat_id is missing: set it to the group's numeric id, for example -1001234567890", c.Path)
	}
	return nil
}

// displayURL returns the scheme and host of raw for error messages. The
// user part, path, query and fragment may hold a password or a token (a
// bot token pasted into telegram.api_url, say), so they are left out.
func displayURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(not a URL)"
	}
	shown := u.Scheme + "://" + u.Host
	if u.User != nil || strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "" {
		shown += " (credentials, path or query removed)"
	}
	return shown
}

func validateHTTPURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a URL")
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return errors.New("must start with https:// or http://")
	}
	if u.Host == "" {
		return errors.New("has no host")
	}
	if u.User != nil {
		return errors.New("must not contain a user name or password: put credentials in their own keys")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return errors.New("must not contain a query or fragment")
	}
	return nil
}

// unknownKeysError names each key the file has that no setting uses, with
// the closest known key when one is near enough to be a typo.
func unknownKeysError(path string, keys []toml.Key) error {
	known := knownKeys()
	var parts []string
	for _, key := range keys {
		name := key.String()
		if suggestion := closest(name, known); suggestion != "" {
			parts = append(parts, fmt.Sprintf("%s (did you mean %s?)", name, suggestion))
		} else {
			parts = append(parts, name)
		}
	}
	return fmt.Errorf("config %s: unknown keys: %s; config.example.toml lists every key", path, strings.Join(parts, ", "))
}

// knownKeys lists every dotted key the file may contain, taken from the
// toml tags so that it cannot drift from the structs.
func knownKeys() []string {
	var keys []string
	encoded := new(strings.Builder)
	cfg := Default()
	cfg.MISP.APIKey = "x"
	cfg.Telegram.BotToken = "x"
	cfg.Telegram.ChatID = "1"
	cfg.MISP.Tags, cfg.MISP.ExcludeTags = []string{""}, []string{""}
	cfg.Telegram.IncludeGroups, cfg.Telegram.ExcludeGroups = []string{""}, []string{""}
	_ = toml.NewEncoder(encoded).Encode(cfg)
	var generic map[string]any
	_, _ = toml.Decode(encoded.String(), &generic)
	for table, value := range generic {
		fields, ok := value.(map[string]any)
		if !ok {
			continue
		}
		for field := range fields {
			keys = append(keys, table+"."+field)
		}
	}
	sort.Strings(keys)
	return keys
}

// KnownKeys returns every valid dotted key, for the self-check.
func KnownKeys() []string { return knownKeys() }

func closest(name string, known []string) string {
	best, bestDistance := "", 4
	for _, candidate := range known {
		distance := levenshtein(strings.ToLower(name), candidate)
		if distance < bestDistance {
			best, bestDistance = candidate, distance
		}
	}
	return best
}

func levenshtein(a, b string) int {
	previous := make([]int, len(b)+1)
	current := make([]int, len(b)+1)
	for j := range previous {
		previous[j] = j
	}
	for i := 1; i <= len(a); i++ {
		current[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			current[j] = min(previous[j]+1, current[j-1]+1, previous[j-1]+cost)
		}
		previous, current = current, previous
	}
	return previous[len(b)]
}
