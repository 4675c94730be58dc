package misp

import (
	"log/slog"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/config"
)

// OptionsFromConfig maps the [misp] table of the config to client options,
// so that custom-misp and its self-check build the same client.
func OptionsFromConfig(c config.MISP, userAgent string, log *slog.Logger) Options {
	return Options{
		URL:                c.URL,
		Key:                c.APIKey,
		AuthHeader:         c.AuthHeader,
		CAFile:             c.CAFile,
		InsecureSkipVerify: c.InsecureSkipVerify,
		UserAgent:          userAgent,
		Log:                log,
		Filters: Filters{
			ToIDS:              c.ToIDS,
			Published:          c.Published,
			EnforceWarninglist: c.EnforceWarninglist,
			MaxAge:             c.MaxAge.D(),
			Tags:               c.Tags,
			ExcludeTags:        c.ExcludeTags,
			Limit:              c.Limit,
		},
	}
}
