package check

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/misp"
)

// checkMISP requests MISP's version with the configured URL, TLS settings
// and key, which tests all three.
func checkMISP(ctx context.Context, e *env) []Result {
	const name = "misp"
	cfg := e.cfg
	if cfg == nil && e.configUnread {
		return []Result{warn(name, "not tried, because the config could not be read",
			fmt.Sprintf("run check as root or as the wazuh user (sudo -u wazuh %s check)", e.Executable))}
	}
	if cfg == nil {
		return []Result{fail(name, "not tried, because the config did not load", "fix the config first")}
	}

	var results []Result
	u, err := url.Parse(cfg.MISP.URL)
	switch {
	case cfg.MISP.URL == "" && slices.ContainsFunc(e.blocks, func(b Integration) bool { return b.HasHookURL }):
		return []Result{warn(name, "not tried, because misp.url is empty and custom-misp then uses the <hook_url> of the <integration> block",
			"set misp.url, so that check can test it, and remove <hook_url>")}
	case cfg.MISP.URL == "":
		return []Result{fail(name, "misp.url is empty", "set misp.url to MISP's base URL, for example \"https://misp.example.org\"")}
	case err == nil && u.Scheme == "http":
		results = append(results, warn("misp url",
			cfg.MISP.URL+" uses http://, so the API key crosses the network unencrypted", "use https://"))
	}
	if cfg.MISP.InsecureSkipVerify {
		results = append(results, warn("misp tls",
			"misp.insecure_skip_verify is true: MISP's certificate is not verified, so anyone on the network path can read the API key",
			"set misp.ca_file to MISP's CA (or its self-signed certificate) and set insecure_skip_verify = false"))
	}
	if !cfg.MISP.APIKey.IsSet() {
		return append(results, fail(name, "not tried, because misp.api_key is empty (see misp.api_key)", "set misp.api_key_file"))
	}

	client, err := misp.New(misp.OptionsFromConfig(cfg.MISP, ProgramMISP+" check", nil))
	if err != nil {
		return append(results, fail(name, oneLine(err.Error()), "fix the [misp] setting the message names"))
	}

	ctx, cancel := context.WithTimeout(ctx, cfg.MISP.Timeout.D())
	defer cancel()
	version, err := client.Version(ctx)
	if err == nil {
		return append(results, ok(name, "MISP %s at %s accepted the API key", version, cfg.MISP.URL))
	}

	var mispErr *misp.Error
	if !errors.As(err, &mispErr) {
		return append(results, fail(name, oneLine(err.Error()), "check misp.url"))
	}
	fix := mispErr.Hint
	if mispErr.Kind == misp.KindTLS && u != nil && isNoSANHint(mispErr) {
		san := "DNS:" + u.Hostname()
		if net.ParseIP(u.Hostname()) != nil {
			san = "IP:" + u.Hostname()
		}
		fix += fmt.Sprintf(`, for example: openssl req -x509 -newkey rsa:4096 -nodes -days 825 -subj "/CN=%s" -addext "subjectAltName=%s" -keyout misp.key -out misp.crt`, u.Hostname(), san)
	}
	return append(results, fail(name, oneLine(mispErr.Message), fix))
}

// isNoSANHint reports whether the TLS failure is a certificate that names
// its host only in the Common Name, which Go ignores since Go 1.15.
func isNoSANHint(e *misp.Error) bool {
	return containsFold(e.Error(), "legacy Common Name") || containsFold(e.Hint, "subjectAltName")
}
