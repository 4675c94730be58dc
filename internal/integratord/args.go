package integratord

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/secret"
)

// redirectToken is the literal argument integratord appends when its debug
// level is 0. It is passed to execvp, so no shell ever applies it.
const redirectToken = "> /dev/null 2>&1"

// Args is what integratord passed. The layouts, with argv[0] "integrations"
// from 4.2 on:
//
//	4.2-4.6: alert api_key hook_url (debug | " > /dev/null 2>&1")
//	4.7:     alert api_key hook_url debug|"" options|"" ["> /dev/null 2>&1"]
//	4.8+:    alert api_key hook_url debug|"" options|"" timeout retries ["> /dev/null 2>&1"]
//
// Empty tokens are normal. A space inside api_key or hook_url shifts every
// later argument, so optional values are recognised by their form.
type Args struct {
	AlertFile string
	// APIKey and HookURL come from the <integration> block. The config file
	// takes precedence; these are fallbacks and are never logged.
	APIKey  secret.String
	HookURL secret.String
	// Debug is set only by the literal "debug" in argv[4], which integratord
	// passes when its own debug level is above 0.
	Debug bool
	// OptionsFile is the .options file of Wazuh 4.7+ (the <options> text).
	OptionsFile string
	// Timeout and Retries are the 4.8+ <timeout> and <retries> values; zero
	// Timeout and a negative Retries mean integratord did not pass them.
	Timeout time.Duration
	Retries int
}

// ErrUsage marks an argv that no integratord version produces.
var ErrUsage = errors.New("usage")

// ParseArgs reads argv (argv[0] included). It accepts 2 to 9 elements.
func ParseArgs(argv []string) (Args, error) {
	args := Args{Retries: -1}
	if len(argv) < 2 || strings.TrimSpace(argv[1]) == "" {
		return args, fmt.Errorf("%w: the first argument must be the alert file that wazuh-integratord writes", ErrUsage)
	}
	if len(argv) > 9 {
		return args, fmt.Errorf("%w: got %d arguments, wazuh-integratord passes at most 8", ErrUsage, len(argv)-1)
	}
	args.AlertFile = argv[1]

	rest := make([]string, 0, 7)
	for _, token := range argv[2:] {
		if strings.TrimSpace(token) == redirectToken {
			continue
		}
		rest = append(rest, token)
	}
	get := func(i int) string {
		if i < len(rest) {
			return rest[i]
		}
		return ""
	}

	args.APIKey = secret.String(strings.TrimSpace(get(0)))
	args.HookURL = secret.String(strings.TrimSpace(get(1)))
	args.Debug = get(2) == "debug"

	for _, token := range rest[min(2, len(rest)):] {
		if strings.HasSuffix(token, ".options") {
			args.OptionsFile = token
			break
		}
	}
	if seconds, err := strconv.Atoi(get(4)); err == nil && seconds > 0 {
		args.Timeout = time.Duration(seconds) * time.Second
	}
	if retries, err := strconv.Atoi(get(5)); err == nil && retries >= 0 {
		args.Retries = retries
	}
	return args, nil
}
