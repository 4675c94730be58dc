package check

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// integrationPrefix is the prefix integratord requires of every integration
// name other than its built-in ones (Wazuh 4.x integrator.c compares the
// first 7 bytes).
const integrationPrefix = "custom-"

// checkBinary checks the program file that integratord runs: where it is,
// its name, and that the wazuh user can run it but not change it. It
// returns the integration name ossec.conf must use, or "" when no installed
// binary was found.
func checkBinary(e *env) (string, []Result) {
	dir := resolve(filepath.Join(e.Home, "integrations"))
	exe := resolve(e.Executable)
	installed := filepath.Join(dir, e.Program)

	var results []Result
	target := exe
	if filepath.Dir(exe) != dir {
		_, err := os.Stat(installed)
		if errors.Is(err, fs.ErrPermission) {
			return "", []Result{e.unreachable("binary", installed,
				fmt.Sprintf("chown root:wazuh %s && chmod 0750 %s", dir, dir))}
		}
		if err != nil {
			return "", []Result{fail("binary",
				fmt.Sprintf("%s not found: integratord logs \"File not found\" and disables the integration", installed),
				"run make install, which copies the binaries to "+dir+", then restart wazuh-manager")}
		}
		target = installed
		results = append(results, warn("binary",
			fmt.Sprintf("this copy runs from %s, not from %s, so the checks below look at %s", exe, dir, installed),
			"run "+installed+" check to test exactly what integratord runs"))
	} else {
		results = append(results, ok("binary", "%s", exe))
	}

	name := filepath.Base(target)
	if strings.HasPrefix(name, integrationPrefix) {
		results = append(results, ok("binary name", "%s starts with %s", name, integrationPrefix))
	} else {
		results = append(results, fail("binary name",
			fmt.Sprintf("%s does not start with %s, so integratord rejects it (\"Invalid integration\")", name, integrationPrefix),
			fmt.Sprintf("rename it to %s%s and use that name in the <name> of its <integration> block", integrationPrefix, name)))
	}

	return name, append(results, binaryMode(e, target))
}

// binaryMode applies integratord's rule that the wazuh user must not be able
// to write the program (its child exits 127 with "has write permissions"
// otherwise) and checks that wazuh can run it.
func binaryMode(e *env, path string) Result {
	const name = "binary mode"
	fix := fmt.Sprintf("chown root:wazuh %s && chmod 0750 %s", path, path)

	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrPermission) {
		return e.unreachable(name, path, fix)
	}
	if err != nil {
		return fail(name, oneLine(err.Error()), fix)
	}
	if reason := writableByWazuh(info, e.Wazuh); reason != "" {
		return fail(name,
			fmt.Sprintf("%s is writable by %s (%s): integratord refuses to run it, logging \"has write permissions\" and exit status 127", path, reason, describeFile(info)),
			fix)
	}

	uid, gid, _ := owner(info)
	if e.Wazuh.Known() && !e.Wazuh.can(info, permExec) {
		return fail(name, fmt.Sprintf("the wazuh user cannot run %s (%s)", path, describeFile(info)), fix)
	}
	if uid != 0 || (e.Wazuh.GID >= 0 && gid != e.Wazuh.GID) || info.Mode().Perm() != 0o750 {
		return warn(name, fmt.Sprintf("%s is %s, not root:wazuh 0750", path, describeFile(info)), fix)
	}
	return ok(name, "%s", describeFile(info))
}

// writableByWazuh names who can write the file in integratord's terms, or
// returns "" when the wazuh user cannot: others with o+w, the group with
// g+w when it is wazuh's, the owner with u+w when it is wazuh.
func writableByWazuh(info fs.FileInfo, id Identity) string {
	perm := info.Mode().Perm()
	uid, gid, _ := owner(info)
	switch {
	case perm&0o002 != 0:
		return "others"
	case perm&0o020 != 0 && id.GID >= 0 && gid == id.GID:
		return "its group wazuh"
	case perm&0o200 != 0 && id.UID >= 0 && uid == id.UID:
		return "its owner wazuh"
	}
	return ""
}

// resolve returns path with symbolic links resolved, or path itself when
// that fails (for example, when it does not exist).
func resolve(path string) string {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		return real
	}
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}
