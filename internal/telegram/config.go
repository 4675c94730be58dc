package telegram

import "github.com/soc-integrations/wazuh-misp-telegram/internal/config"

// OptionsFromConfig maps the [telegram] table of the config to client
// options, so that custom-telegram and its self-check build the same client.
func OptionsFromConfig(c config.Telegram) Options {
	return Options{
		Token:    c.BotToken,
		APIURL:   c.APIURL,
		ProxyURL: c.ProxyURL,
		Timeout:  c.Timeout.D(),
	}
}
