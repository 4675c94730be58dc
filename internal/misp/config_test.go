package misp

import (
	"testing"
	"time"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/config"
)

func TestOptionsFromConfigCopiesEveryKey(t *testing.T) {
	c := config.Default().MISP
	c.URL = "https://misp.example.org"
	c.APIKey = "0123456789abcdef0123456789abcdef01234567"
	c.AuthHeader = HeaderMISPAuth
	c.CAFile = "/etc/ssl/misp.pem"
	c.InsecureSkipVerify = true
	c.ToIDS, c.Published, c.EnforceWarninglist = false, false, false
	c.MaxAge = config.Duration(48 * time.Hour)
	c.Tags = []string{"tlp:green"}
	c.ExcludeTags = []string{"false-positive"}
	c.Limit = 7

	opts := OptionsFromConfig(c, "ua", nil)

	if opts.URL != c.URL || opts.Key != c.APIKey || opts.AuthHeader != c.AuthHeader || opts.CAFile != c.CAFile || !opts.InsecureSkipVerify || opts.UserAgent != "ua" {
		t.Errorf("connection options = %+v, want the [misp] values", opts)
	}
	f := opts.Filters
	if f.ToIDS || f.Published || f.EnforceWarninglist || f.MaxAge != 48*time.Hour || f.Limit != 7 {
		t.Errorf("filters = %+v, want the [misp] values", f)
	}
	if len(f.Tags) != 1 || f.Tags[0] != "tlp:green" || len(f.ExcludeTags) != 1 || f.ExcludeTags[0] != "false-positive" {
		t.Errorf("tag filters = %v / %v", f.Tags, f.ExcludeTags)
	}
}
