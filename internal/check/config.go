package check

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/config"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/render"
)

// checkConfig checks the config file's mode, then loads it. It returns nil
// for the config when it did not load.
func checkConfig(e *env) (*config.Config, []Result) {
	path := e.ConfigPath
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, []Result{fail("config",
			path+" not found",
			fmt.Sprintf("run make install, or copy config.example.toml to %s (root:wazuh 0640), or pass -config", path))}
	}
	if errors.Is(err, fs.ErrPermission) {
		e.configUnread = !e.judgesForWazuh()
		return nil, []Result{e.unreachable("config", path, "let the wazuh group search each directory above it")}
	}
	if err != nil {
		return nil, []Result{fail("config", oneLine(err.Error()), "run check as root or as the wazuh user")}
	}
	if !info.Mode().IsRegular() {
		return nil, []Result{fail("config",
			fmt.Sprintf("%s is %s, not a regular file, so both programs reject it", path, describeType(info.Mode())),
			"replace it with a regular file (root:wazuh 0640), or pass -config")}
	}

	mode := configMode(e, path, info)
	if mode.Status == Fail && info.Mode().Perm()&0o022 != 0 {
		// config.Load rejects such a file before parsing it.
		return nil, []Result{mode, fail("config",
			"not loaded, because group or others can write it (see config mode)",
			"fix the mode, then run check again")}
	}

	cfg, err := config.Load(path, e.Home)
	if err != nil {
		fix := "fix the value the message names, then run check again"
		if strings.Contains(err.Error(), "unknown keys") {
			fix = "rename each unknown key to the one suggested, or remove it"
		}
		if errors.Is(err, fs.ErrPermission) {
			e.configUnread = !e.judgesForWazuh()
			return nil, []Result{mode, e.denied("config", oneLine(err.Error()), "make the file the message names root:wazuh 0640")}
		}
		return nil, []Result{mode, fail("config", oneLine(err.Error()), fix)}
	}
	results := []Result{mode, ok("config", "%s loaded, every key is known", path)}
	for _, warning := range cfg.Warnings {
		// The config mode and misp tls checks report these two already.
		if strings.Contains(warning, "readable by others") || strings.Contains(warning, "insecure_skip_verify") {
			continue
		}
		results = append(results, warn("config", oneLine(warning), "see the message"))
	}
	return cfg, results
}

// configMode checks that only the owner can change the config, that others
// cannot read its secrets, and that the wazuh user can read it.
func configMode(e *env, path string, info fs.FileInfo) Result {
	const name = "config mode"
	perm := info.Mode().Perm()
	fix := fmt.Sprintf("chown root:wazuh %s && chmod 0640 %s", path, path)

	if perm&0o022 != 0 {
		return fail(name, fmt.Sprintf("%s is writable by group or others (%s), so both programs reject it", path, describeFile(info)), fix)
	}
	if readable, who := e.usable(path, info, permRead); !readable {
		return e.denied(name, fmt.Sprintf("%s cannot read %s (%s)", who, path, describeFile(info)), fix)
	}
	if perm&0o004 != 0 {
		return warn(name, fmt.Sprintf("%s is readable by every local user (%s) and holds the MISP key and the bot token", path, describeFile(info)), "chmod 0640 "+path)
	}
	return ok(name, "%s", describeFile(info))
}

// checkSecrets checks that the credentials this program needs are set and
// that the files holding them are readable by the wazuh user. It never
// prints a secret.
func checkSecrets(e *env) []Result {
	if e.cfg == nil {
		return nil
	}
	switch e.Program {
	case ProgramMISP:
		return secretResults(e, "misp.api_key", e.cfg.MISP.APIKey.IsSet(), e.cfg.MISP.APIKeyFile, hasAPIKey(e.blocks))
	case ProgramTelegram:
		results := secretResults(e, "telegram.bot_token", e.cfg.Telegram.BotToken.IsSet(), e.cfg.Telegram.BotTokenFile, false)
		if !e.cfg.Telegram.ChatID.IsSet() {
			results = append(results, fail("telegram chat_id", "telegram.chat_id is empty",
				"set it to the group's numeric id, for example -1001234567890 (supergroups start with -100)"))
		} else {
			results = append(results, ok("telegram chat_id", "%s", e.cfg.Telegram.ChatID))
		}
		return results
	}
	return nil
}

// secretResults reports on one credential: set inline, set from a file, or
// missing. fallback is set when the <integration> block carries the value.
func secretResults(e *env, key string, set bool, file string, fallback bool) []Result {
	name := key
	switch {
	case !set && fallback:
		return []Result{warn(name,
			fmt.Sprintf("%s and %s_file are empty, so the <api_key> of the <integration> block is used", key, key),
			fmt.Sprintf("write the key to a file (root:wazuh 0640), set %s_file to it and remove <api_key>: integratord logs <api_key> in ossec.log when a run exits with status 127", key))}
	case !set:
		return []Result{fail(name,
			fmt.Sprintf("%s and %s_file are both empty", key, key),
			fmt.Sprintf("write it to a file (root:wazuh 0640) and set %s_file to that path", key))}
	case file == "":
		return []Result{ok(name, "set inline in the config")}
	}

	info, err := os.Stat(file)
	if errors.Is(err, fs.ErrPermission) {
		return []Result{e.unreachable(name, file, "let the wazuh group search each directory above it")}
	}
	if err != nil {
		return []Result{fail(name, oneLine(err.Error()), "set "+key+"_file to a readable file")}
	}
	if readable, who := e.usable(file, info, permRead); !readable {
		return []Result{e.denied(name,
			fmt.Sprintf("%s cannot read %s_file %s (%s)", who, key, file, describeFile(info)),
			fmt.Sprintf("chown root:wazuh %s && chmod 0640 %s", file, file))}
	}
	return []Result{ok(name, "set from %s (%s)", file, describeFile(info))}
}

// checkPaths checks the directories and files the program reads and writes
// at run time.
func checkPaths(e *env) []Result {
	cfg := e.paths()
	results := []Result{
		checkStateDir(e, cfg.Wazuh.StateDir),
		checkLogFile(e, cfg.Wazuh.LogFile),
	}
	switch {
	case e.Program == ProgramMISP && cfg.MISP.CAFile != "":
		results = append(results, checkReadable(e, "misp ca_file", cfg.MISP.CAFile))
	case e.Program == ProgramTelegram:
		results = append(results, checkTemplate(e, cfg.Telegram.Template))
	}
	return results
}

func checkStateDir(e *env, dir string) Result {
	const name = "state dir"
	fix := fmt.Sprintf("mkdir -p %s && chown wazuh:wazuh %s && chmod 0750 %s (make install does this)", dir, dir, dir)

	info, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return fail(name, dir+" does not exist, so the circuit breaker, cache and rate state cannot be kept", fix)
	}
	if errors.Is(err, fs.ErrPermission) {
		return e.unreachable(name, dir, fix)
	}
	if err != nil {
		return fail(name, oneLine(err.Error()), fix)
	}
	if !info.IsDir() {
		return fail(name, dir+" is not a directory", "set wazuh.state_dir to a directory")
	}
	if writable, who := e.usable(dir, info, permWrite|permExec); !writable {
		return e.denied(name, fmt.Sprintf("%s cannot write %s (%s)", who, dir, describeFile(info)), fix)
	}
	return ok(name, "%s (%s)", dir, describeFile(info))
}

func checkLogFile(e *env, path string) Result {
	const name = "log file"
	fix := fmt.Sprintf("touch %s && chown wazuh:wazuh %s && chmod 0640 %s", path, path, path)

	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return warn(name, path+" does not exist yet; the programs create it when its directory is writable", fix)
	}
	if errors.Is(err, fs.ErrPermission) {
		return e.unreachable(name, path, fix)
	}
	if err != nil {
		return fail(name, oneLine(err.Error()), fix)
	}
	if writable, who := e.usable(path, info, permWrite); !writable {
		return e.denied(name, fmt.Sprintf("%s cannot write %s (%s), so errors are not logged", who, path, describeFile(info)), fix)
	}
	return ok(name, "%s (%s)", path, describeFile(info))
}

func checkReadable(e *env, name, path string) Result {
	fix := fmt.Sprintf("chown root:wazuh %s && chmod 0640 %s", path, path)
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrPermission) {
		return e.unreachable(name, path, fix)
	}
	if err != nil {
		return fail(name, oneLine(err.Error()), "point the setting at an existing file")
	}
	if readable, who := e.usable(path, info, permRead); !readable {
		return e.denied(name, fmt.Sprintf("%s cannot read %s (%s)", who, path, describeFile(info)), fix)
	}
	return ok(name, "%s (%s)", path, describeFile(info))
}

// checkTemplate checks that the message template is readable and parses,
// and renders sample data without error.
func checkTemplate(e *env, path string) Result {
	const name = "template"
	readable := checkReadable(e, name, path)
	if readable.Status != OK {
		return readable
	}
	data, err := readRegular(path)
	var skipped *skippedError
	if errors.As(err, &skipped) {
		return fail(name, skipped.Error(), "set telegram.template to a regular file, for example a shipped one under etc/misp-telegram/templates")
	}
	if errors.Is(err, fs.ErrPermission) {
		return e.denied(name, oneLine(err.Error()), fmt.Sprintf("chown root:wazuh %s && chmod 0640 %s", path, path))
	}
	if err != nil {
		return fail(name, oneLine(err.Error()), "point telegram.template at a readable file")
	}
	if _, err := render.Parse(filepath.Base(path), string(data)); err != nil {
		return fail(name, oneLine(fmt.Sprintf("template %s: %v", path, err)), "fix the template, or set telegram.template to a shipped one under etc/misp-telegram/templates")
	}
	return ok(name, "%s parses and renders the sample alert", path)
}
