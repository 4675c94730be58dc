package check

import (
	"bytes"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunHealthyTree(t *testing.T) {
	for _, program := range []string{ProgramMISP, ProgramTelegram} {
		t.Run(program, func(t *testing.T) {
			tr := newTree(t, program)
			tr.opts.SendTest = true

			results := tr.run()

			for _, r := range results {
				if r.Status == Fail {
					t.Errorf("unexpected failure: %s", r.Line())
				}
			}
			var out bytes.Buffer
			if code := Print(&out, results); code != 0 {
				t.Errorf("Print returned %d, want 0\n%s", code, out.String())
			}
		})
	}
}

func TestRunHealthyMISPDetails(t *testing.T) {
	tr := newTree(t, ProgramMISP)

	results := tr.run()

	expect(t, results, "config", OK, "every key is known")
	expect(t, results, "misp", OK, "MISP 2.5.1 at "+tr.misp.URL()+" accepted the API key")
	expect(t, results, "queue socket", OK, "accepts datagrams")
	expect(t, results, "rules file", OK, "rule 920100 is in etc/rules/misp_telegram_rules.xml")
	expect(t, results, "group syscheck_entry_added", OK, "rule 554 (level 5, ruleset/rules/0015-ossec_rules.xml) reaches alerts.json")
	if len(tr.queue.Messages()) != 0 {
		t.Errorf("the queue check sent %d datagrams, want none", len(tr.queue.Messages()))
	}
}

func TestConfigUnknownKey(t *testing.T) {
	tr := newTree(t, ProgramMISP)
	tr.set("misp.api_kye", quote(testKey))

	results := tr.run()

	expect(t, results, "config", Fail, "misp.api_kye (did you mean misp.api_key?)", "rename each unknown key")
}

func TestConfigGroupWritable(t *testing.T) {
	tr := newTree(t, ProgramMISP)
	tr.chmod("etc/misp-telegram.toml", 0o660)

	results := tr.run()

	expect(t, results, "config mode", Fail, "is writable by group or others", "0660", "chmod 0640")
	expect(t, results, "config", Fail, "not loaded")
}

func TestConfigModes(t *testing.T) {
	tests := []struct {
		name string
		mode os.FileMode

		status Status
		want   string
	}{
		{"owner and group read", 0o640, OK, "0640"},
		{"world readable", 0o644, Warn, "readable by every local user"},
		{"wazuh cannot read", 0o600, Fail, "the wazuh user cannot read"},
		{"world writable", 0o602, Fail, "writable by group or others"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTree(t, ProgramMISP)
			tr.chmod("etc/misp-telegram.toml", tc.mode)

			results := tr.run()

			expect(t, results, "config mode", tc.status, tc.want)
		})
	}
}

func TestSecretMissing(t *testing.T) {
	tr := newTree(t, ProgramMISP)
	delete(tr.settings, "misp.api_key")
	tr.writeConfig()

	results := tr.run()

	expect(t, results, "misp.api_key", Fail, "misp.api_key and misp.api_key_file are both empty")
	expect(t, results, "misp", Fail, "not tried")
}

func TestSecretFileUnreadable(t *testing.T) {
	tr := newTree(t, ProgramTelegram)
	tr.writeFile("etc/misp-telegram/bot.token", testToken+"\n", 0o600)
	delete(tr.settings, "telegram.bot_token")
	tr.set("telegram.bot_token_file", quote("etc/misp-telegram/bot.token"))

	results := tr.run()

	expect(t, results, "telegram.bot_token", Fail, "the wazuh user cannot read telegram.bot_token_file", "chmod 0640")
	assertNoToken(t, results)
}

func TestBinaryNameWithoutPrefix(t *testing.T) {
	tr := newTree(t, ProgramMISP)
	tr.writeFile("integrations/misp", "#!/bin/sh\n", 0o750)
	tr.opts.Executable = tr.path("integrations/misp")

	results := tr.run()

	expect(t, results, "binary name", Fail, "misp does not start with custom-", "Invalid integration", "rename it to custom-misp")
}

func TestBinaryWritableByWazuhGroup(t *testing.T) {
	tr := newTree(t, ProgramMISP)
	tr.chmod("integrations/custom-misp", 0o770)

	results := tr.run()

	expect(t, results, "binary mode", Fail, "writable by its group wazuh", "has write permissions", "chmod 0750")
}

func TestBinaryModes(t *testing.T) {
	tests := []struct {
		name string
		mode os.FileMode

		status Status
		want   string
	}{
		{"world writable", 0o757, Fail, "writable by others"},
		{"group cannot run", 0o700, Fail, "the wazuh user cannot run"},
		{"world executable", 0o755, Warn, "not root:wazuh 0750"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTree(t, ProgramMISP)
			tr.chmod("integrations/custom-misp", tc.mode)

			results := tr.run()

			expect(t, results, "binary mode", tc.status, tc.want)
		})
	}
}

func TestBinaryOutsideIntegrations(t *testing.T) {
	tr := newTree(t, ProgramMISP)
	tr.opts.Executable = filepath.Join(t.TempDir(), "custom-misp")

	results := tr.run()

	expect(t, results, "binary", Warn, "the checks below look at "+tr.path("integrations/custom-misp"))

	os.Remove(tr.path("integrations/custom-misp"))
	results = tr.run()

	expect(t, results, "binary", Fail, "File not found", "make install")
}

func TestAlertFormatMissing(t *testing.T) {
	tr := newTree(t, ProgramMISP)
	tr.setBlock(ProgramMISP, `
    <name>custom-misp</name>
    <group>syscheck_entry_added</group>`)

	results := tr.run()

	expect(t, results, "integration", Fail, "has no <alert_format>", "legacy key='value'", "exit status 4", "<alert_format>json</alert_format>")
}

func TestOssecConfTruncated(t *testing.T) {
	tr := newTree(t, ProgramMISP)
	tr.writeFile("etc/ossec.conf", "<ossec_config>\n  <integration>\n    <name>custom-misp</name>\n    <group>syscheck_entry_added</group>\n", 0o640)

	results := tr.run()

	expect(t, results, "ossec.conf", Fail, "XML syntax error on line 2: element <integration> is not closed before the end of the file", "fix the XML at the line named")
	for _, r := range results {
		if strings.Contains(r.Line(), "no <alert_format>") {
			t.Errorf("a truncated file is reported as a missing option: %s", r.Line())
		}
	}
}

func TestOssecConfSymlinkLoop(t *testing.T) {
	tr := newTree(t, ProgramMISP)
	os.Remove(tr.path("etc/ossec.conf"))
	if err := os.Symlink("ossec.conf", tr.path("etc/ossec.conf")); err != nil {
		t.Fatal(err)
	}

	results := tr.run()

	expect(t, results, "ossec.conf", Fail, tr.path("etc/ossec.conf")+" is a symbolic link loop (ELOOP)", "point etc/ossec.conf at")
	if r := find(t, results, "ossec.conf"); strings.Contains(r.Fix, "root") {
		t.Errorf("fix suggests root for a link loop: %s", r.Line())
	}
}

func TestRulesSymlinkLoop(t *testing.T) {
	tr := newTree(t, ProgramMISP)
	if err := os.Symlink("loop.xml", tr.path("etc/rules/loop.xml")); err != nil {
		t.Fatal(err)
	}

	results := tr.run()

	expect(t, results, "rules", Warn, "etc/rules/loop.xml is a symbolic link loop (ELOOP), so its rules were not checked", "remove the link")
	if r := find(t, results, "rules"); strings.Contains(r.Fix, "root") {
		t.Errorf("fix suggests root for a link loop: %s", r.Line())
	}
}

func TestRulesDanglingSymlink(t *testing.T) {
	tr := newTree(t, ProgramMISP)
	if err := os.Symlink("gone.xml", tr.path("etc/rules/local_rules.xml")); err != nil {
		t.Fatal(err)
	}

	results := tr.run()

	expect(t, results, "rules", Warn, "etc/rules/local_rules.xml is a symbolic link to a missing file", "remove the link")
}

func TestIntegrationBlockMissing(t *testing.T) {
	tr := newTree(t, ProgramMISP)
	tr.setBlock(ProgramMISP, `
    <name>custom-misp.py</name>
    <alert_format>json</alert_format>`)

	results := tr.run()

	expect(t, results, "integration", Fail, "no <integration> with <name>custom-misp</name>", "found <name>custom-misp.py</name>")
}

func TestGroupFilterSpaceAfterComma(t *testing.T) {
	tr := newTree(t, ProgramMISP)
	tr.setBlock(ProgramMISP, `
    <name>custom-misp</name>
    <group>syscheck_entry_added, syscheck_entry_modified</group>
    <alert_format>json</alert_format>`)

	results := tr.run()

	expect(t, results, "integration group", Warn, `token " syscheck_entry_modified"`, "never matches")
}

func TestSysmonBaseRulesLevelZero(t *testing.T) {
	tr := newTree(t, ProgramMISP)
	tr.setBlock(ProgramMISP, `
    <name>custom-misp</name>
    <group>sysmon_event1,sysmon_event3,sysmon_event6,sysmon_event7,sysmon_event_15,sysmon_event_22</group>
    <alert_format>json</alert_format>`)

	results := tr.run()

	expect(t, results, "group sysmon_event6", Warn,
		"every rule with group sysmon_event6 is below log_alert_level 3 (61608 level 0)",
		"install etc/misp-telegram/sysmon_lookup_rules.xml into etc/rules")
	for _, group := range []string{"sysmon_event1", "sysmon_event3", "sysmon_event7", "sysmon_event_15", "sysmon_event_22"} {
		expect(t, results, "group "+group, Warn, "below log_alert_level 3")
	}
}

func TestSysmonLookupRulesInstalled(t *testing.T) {
	tr := newTree(t, ProgramMISP)
	tr.setBlock(ProgramMISP, `
    <name>custom-misp</name>
    <group>sysmon_event6,sysmon_event_22</group>
    <alert_format>json</alert_format>`)
	tr.copyFile(tr.path(sysmonLookupRules), "etc/rules/sysmon_lookup_rules.xml", 0o660)

	results := tr.run()

	expect(t, results, "group sysmon_event6", OK, "rule 61608 (level 3, etc/rules/sysmon_lookup_rules.xml)")
	expect(t, results, "group sysmon_event_22", OK, "rule 61650 (level 3")
	expect(t, results, "rule ids", OK, "no id defined twice")

	// A higher log_alert_level keeps the raised rules out again.
	tr.alerts = "<log_alert_level>5</log_alert_level>"
	tr.writeOssecConf()
	results = tr.run()

	expect(t, results, "group sysmon_event6", Warn, "below log_alert_level 5 (61608 level 3)")
}

func TestSysmonStockRulesAbsent(t *testing.T) {
	tr := newTree(t, ProgramMISP)
	os.Remove(tr.path(filepath.Join(stockRulesDir, stockSysmonRules)))
	tr.setBlock(ProgramMISP, `
    <name>custom-misp</name>
    <group>sysmon_event3,syscheck_entry_added</group>
    <alert_format>json</alert_format>`)

	results := tr.run()

	expect(t, results, "group sysmon_event3", Warn, "0595-win-sysmon_rules.xml not found", "was not checked")
	expect(t, results, "group syscheck_entry_added", OK)
}

func TestGroupNoRuleCarries(t *testing.T) {
	tr := newTree(t, ProgramMISP)
	tr.setBlock(ProgramMISP, `
    <name>custom-misp</name>
    <group>sysmon_event_3</group>
    <alert_format>json</alert_format>`)

	results := tr.run()

	expect(t, results, "group sysmon_event_3", Warn, "no rule in ruleset/rules or etc/rules carries group sysmon_event_3", "sysmon_eventN")
}

func TestDuplicateRuleID(t *testing.T) {
	tr := newTree(t, ProgramMISP)
	rule := `<group name="local,"><rule id="100200" level="5"><match>x</match><description>x</description></rule></group>`
	tr.writeFile("etc/rules/a_rules.xml", rule, 0o660)
	tr.writeFile("etc/rules/b_rules.xml", rule, 0o660)

	results := tr.run()

	expect(t, results, "rule ids", Fail, "rule id 100200 is defined in both etc/rules/a_rules.xml and etc/rules/b_rules.xml", "unused id")
}

func TestLocalRuleReusesStockID(t *testing.T) {
	tr := newTree(t, ProgramMISP)
	tr.writeFile("etc/rules/local_rules.xml",
		`<group name="local,"><rule id="61605" level="3"><if_sid>61600</if_sid><description>x</description></rule></group>`, 0o660)

	results := tr.run()

	expect(t, results, "rule ids", Fail, "rule id 61605 in etc/rules/local_rules.xml is also a stock rule in ruleset/rules/0595-win-sysmon_rules.xml", `overwrite="yes"`)
}

func TestRulesFileMissing(t *testing.T) {
	tr := newTree(t, ProgramTelegram)
	os.Remove(tr.path("etc/rules/" + ourRulesFile))

	results := tr.run()

	expect(t, results, "rules file", Fail, "defines rule 920100", "make install copies misp_telegram_rules.xml")
}

func TestQueueSocketMissing(t *testing.T) {
	tr := newTree(t, ProgramMISP)
	tr.set("wazuh.queue_socket", quote(tr.path("queue/sockets/queue")))

	results := tr.run()

	expect(t, results, "queue socket", Fail, "not found (ENOENT)", "start wazuh-manager")
}

func TestQueueSocketProblems(t *testing.T) {
	tests := []struct {
		name   string
		create func(t *testing.T, path string)

		want string
	}{
		{"stale", func(t *testing.T, path string) {
			conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
			if err != nil {
				t.Fatal(err)
			}
			conn.Close() // leaves the file, as a stopped analysisd does
		}, "refused the connection (ECONNREFUSED)"},
		{"regular file", func(t *testing.T, path string) {
			if err := os.WriteFile(path, nil, 0o660); err != nil {
				t.Fatal(err)
			}
		}, "is not a socket"},
		{"stream socket", func(t *testing.T, path string) {
			listener, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { listener.Close() })
		}, "not a datagram socket (EPROTOTYPE)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTree(t, ProgramMISP)
			dir, err := os.MkdirTemp("", "q")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.RemoveAll(dir) })
			path := filepath.Join(dir, "queue")
			tc.create(t, path)
			if err := os.Chmod(path, 0o660); err != nil {
				t.Fatal(err)
			}
			tr.set("wazuh.queue_socket", quote(path))

			results := tr.run()

			expect(t, results, "queue socket", Fail, tc.want)
		})
	}
}

func TestQueueSocketNotWritableByWazuh(t *testing.T) {
	tr := newTree(t, ProgramMISP)
	if err := os.Chmod(tr.queue.Path, 0o640); err != nil {
		t.Fatal(err)
	}

	results := tr.run()

	expect(t, results, "queue socket", Fail, "the wazuh user cannot write")
}

func TestStateDirNotWritable(t *testing.T) {
	tr := newTree(t, ProgramMISP)
	tr.chmod("var/misp-telegram", 0o750)

	results := tr.run()

	expect(t, results, "state dir", Fail, "the wazuh user cannot write", "chown wazuh:wazuh")
}

func TestMISPForbidden(t *testing.T) {
	tr := newTree(t, ProgramMISP)
	tr.set("misp.api_key", quote(strings.Repeat("x", 40)))

	results := tr.run()

	expect(t, results, "misp", Fail, "returned HTTP 403", "Authentication failed", "check misp.api_key")
	for _, r := range results {
		if strings.Contains(r.Line(), strings.Repeat("x", 40)) {
			t.Errorf("a line shows the API key: %s", r.Line())
		}
	}
}

func TestMISPCertificateWithoutSAN(t *testing.T) {
	tr := newTree(t, ProgramMISP)
	url, caFile := startCommonNameOnlyMISP(t)
	tr.set("misp.url", quote(url))
	tr.set("misp.ca_file", quote(caFile))

	results := tr.run()

	expect(t, results, "misp", Fail,
		"x509: certificate relies on legacy Common Name field",
		"reissue the certificate with a subjectAltName",
		`-addext "subjectAltName=IP:127.0.0.1"`)
	expect(t, results, "misp ca_file", OK)
}

func TestMISPRedirect(t *testing.T) {
	tr := newTree(t, ProgramMISP)
	srv := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/users/login", http.StatusFound)
	}))
	tr.set("misp.url", quote(srv))

	results := tr.run()

	expect(t, results, "misp", Fail, "redirecting to /users/login", "maintenance mode")
	expect(t, results, "misp url", Warn, "uses http://")
}

func TestMISPInsecureSkipVerify(t *testing.T) {
	tr := newTree(t, ProgramMISP)
	tr.set("misp.insecure_skip_verify", "true")

	results := tr.run()

	expect(t, results, "misp tls", Warn, "misp.insecure_skip_verify is true", "set misp.ca_file")
}

func TestMISPTimeout(t *testing.T) {
	tr := newTree(t, ProgramMISP)
	srv := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	tr.set("misp.url", quote(srv))
	tr.set("misp.timeout", `"200ms"`)

	results := tr.run()

	expect(t, results, "misp", Fail, "timed out", "did not respond in time")
}

func TestMISPURLOnlyInHookURL(t *testing.T) {
	tr := newTree(t, ProgramMISP)
	delete(tr.settings, "misp.url")
	tr.writeConfig()
	tr.setBlock(ProgramMISP, `
    <name>custom-misp</name>
    <hook_url>https://misp.example.org</hook_url>
    <group>syscheck_entry_added</group>
    <alert_format>json</alert_format>`)

	results := tr.run()

	expect(t, results, "misp", Warn, "custom-misp then uses the <hook_url> of the <integration> block", "set misp.url")
}
