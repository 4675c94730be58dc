package indicator

import "github.com/soc-integrations/wazuh-misp-telegram/internal/alert"

// syscheckHashes are the file checksums of a syscheck event, in the order
// they are added. Each is absent when the <directories> options turn that
// checksum off.
var syscheckHashes = []struct {
	kind Kind
	key  string
}{
	{MD5, "md5_after"},
	{SHA1, "sha1_after"},
	{SHA256, "sha256_after"},
}

// extractSyscheck reads the hashes of a file that syscheck (FIM) saw added
// or modified. A deleted file is not looked up, and registry entries are
// skipped: keys have no hashes, and a value's hashes are of its data, not
// of a file.
func extractSyscheck(a *alert.Alert, c *collector) {
	event, _ := a.String("syscheck", "event")
	if event != "added" && event != "modified" {
		return
	}
	if a.HasGroup("syscheck_registry") {
		return
	}
	for _, registryKey := range []string{"value_name", "arch"} {
		if _, ok := a.Value("syscheck", registryKey); ok {
			return
		}
	}

	for _, h := range syscheckHashes {
		s, _ := a.String("syscheck", h.key)
		c.addHash(h.kind, s, "syscheck."+h.key)
	}
}
