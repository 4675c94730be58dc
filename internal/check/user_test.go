package check

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// childEnv marks a copy of the test binary that asUnprivileged started.
const childEnv = "CHECK_TEST_UNPRIVILEGED"

// nobody is the user id asUnprivileged runs tests as when they run as root.
const nobody = 65534

// asUnprivileged runs fn as a user that is not root, because root passes
// every access(2) and permission check. When the tests do not run as root,
// fn runs in this process. Otherwise a copy of the test binary runs only
// the calling test as uid and gid 65534, and fn runs there.
func asUnprivileged(t *testing.T, fn func(t *testing.T)) {
	t.Helper()
	if os.Getenv(childEnv) == "1" || os.Geteuid() != 0 {
		fn(t)
		return
	}

	// The test binary sits in a directory only root may enter.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "checkchild")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	binary := filepath.Join(dir, "check.test")
	copyExecutable(t, self, binary)
	workDir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(binary, "-test.run=^"+t.Name()+"$", "-test.v")
	cmd.Dir = workDir
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	out, err := cmd.CombinedOutput()
	if errors.Is(err, syscall.EPERM) {
		t.Skipf("cannot start a process as uid %d: %v", nobody, err)
	}

	if strings.Contains(string(out), "--- SKIP: "+t.Name()) {
		t.Skipf("skipped as uid %d:\n%s", nobody, out)
	}
	if err != nil || !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("as uid %d: %v\n%s", nobody, err, out)
	}
}

func copyExecutable(t *testing.T, from, to string) {
	t.Helper()
	source, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer source.Close()
	target, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(target, source); err != nil {
		t.Fatal(err)
	}
	if err := target.Close(); err != nil {
		t.Fatal(err)
	}
}

// judgeAsCurrentUser makes the checks judge files by access(2) for the user
// the test runs as, as check does when it does not run as root. That user
// stands for the wazuh user when isWazuh is set, else for another user.
//
// The binaries belong to that user, who may not chown them, so they lose
// their write bit: integratord rejects a program the wazuh user may write.
func (tr *tree) judgeAsCurrentUser(isWazuh bool) {
	tr.opts.Root = false
	tr.opts.UID = os.Geteuid()
	if isWazuh {
		tr.opts.Wazuh = Identity{UID: os.Geteuid(), GID: os.Getegid()}
	} else {
		tr.opts.Wazuh = Identity{UID: os.Geteuid() + 4242, GID: os.Getegid() + 4242}
	}
	for _, program := range []string{ProgramMISP, ProgramTelegram} {
		tr.chmod("integrations/"+program, 0o555)
	}
}

// noFailures fails the test for every FAIL result.
func noFailures(t *testing.T, results []Result) {
	t.Helper()
	for _, r := range results {
		if r.Status == Fail {
			t.Errorf("unexpected failure: %s", r.Line())
		}
	}
}

func TestAsWazuhHealthyTree(t *testing.T) {
	asUnprivileged(t, func(t *testing.T) {
		for _, program := range []string{ProgramMISP, ProgramTelegram} {
			tr := newTree(t, program)
			tr.judgeAsCurrentUser(true)

			results := tr.run()

			noFailures(t, results)
			expect(t, results, "config mode", OK)
		}
	})
}

func TestAsWazuhOssecConfUnreadable(t *testing.T) {
	asUnprivileged(t, func(t *testing.T) {
		tr := newTree(t, ProgramMISP)
		tr.judgeAsCurrentUser(true)
		tr.chmod("etc/ossec.conf", 0)

		results := tr.run()

		expect(t, results, "ossec.conf", Warn,
			fmt.Sprintf("the wazuh user (uid %d) cannot read %s (permission denied), so the <integration> blocks were not checked", os.Geteuid(), tr.path("etc/ossec.conf")),
			"run check as root")
		noFailures(t, results)
	})
}

func TestAsWazuhRulesDirUnlistable(t *testing.T) {
	asUnprivileged(t, func(t *testing.T) {
		tr := newTree(t, ProgramTelegram)
		tr.judgeAsCurrentUser(true)
		tr.chmod("etc/rules", 0o300)
		t.Cleanup(func() { os.Chmod(tr.path("etc/rules"), 0o755) })

		results := tr.run()

		expect(t, results, "rules", Warn,
			fmt.Sprintf("the wazuh user (uid %d) cannot list %s (permission denied), so its rules were not checked", os.Geteuid(), tr.path("etc/rules")),
			"run check as root")
		expect(t, results, "rules file", Warn, "not checked")
		noFailures(t, results)
	})
}

func TestAsWazuhStockRulesUnlistable(t *testing.T) {
	asUnprivileged(t, func(t *testing.T) {
		tr := newTree(t, ProgramMISP)
		tr.judgeAsCurrentUser(true)
		tr.chmod("ruleset/rules", 0o300)
		t.Cleanup(func() { os.Chmod(tr.path("ruleset/rules"), 0o755) })

		results := tr.run()

		expect(t, results, "rules", Warn, fmt.Sprintf("cannot list %s (permission denied)", tr.path("ruleset/rules")))
		expect(t, results, "group filter", Warn, "could not be read, so whether the selected groups reach alerts.json was not checked")
		noFailures(t, results)
	})
}

func TestAsWazuhStateDirNotWritable(t *testing.T) {
	asUnprivileged(t, func(t *testing.T) {
		tr := newTree(t, ProgramMISP)
		tr.judgeAsCurrentUser(true)
		tr.chmod("var/misp-telegram", 0o550)

		results := tr.run()

		expect(t, results, "state dir", Fail, fmt.Sprintf("the wazuh user (uid %d) cannot write", os.Geteuid()), "chown wazuh:wazuh")
	})
}

func TestAsOtherUserConfigUnreadable(t *testing.T) {
	asUnprivileged(t, func(t *testing.T) {
		tr := newTree(t, ProgramMISP)
		tr.judgeAsCurrentUser(false)
		tr.chmod("etc/misp-telegram.toml", 0)

		results := tr.run()

		user := fmt.Sprintf("the current user (uid %d)", os.Geteuid())
		expect(t, results, "config mode", Warn, user+" cannot read", "so whether the wazuh user has access was not checked", "sudo -u wazuh")
		expect(t, results, "config", Warn, "permission denied")
		expect(t, results, "queue socket", Warn, "not tried, because the config could not be read")
		expect(t, results, "misp", Warn, "not tried, because the config could not be read")
		noFailures(t, results)
	})
}

func TestAsOtherUserQueueDenied(t *testing.T) {
	asUnprivileged(t, func(t *testing.T) {
		tr := newTree(t, ProgramMISP)
		tr.judgeAsCurrentUser(false)
		if err := os.Chmod(tr.queue.Path, 0); err != nil {
			t.Fatal(err)
		}

		results := tr.run()

		expect(t, results, "queue socket", Warn,
			fmt.Sprintf("the current user (uid %d) cannot connect to %s (permission denied", os.Geteuid(), tr.queue.Path),
			"so whether the wazuh user has access was not checked")
		noFailures(t, results)
	})
}

func TestAsWazuhQueueDenied(t *testing.T) {
	asUnprivileged(t, func(t *testing.T) {
		tr := newTree(t, ProgramMISP)
		tr.judgeAsCurrentUser(true)
		if err := os.Chmod(tr.queue.Path, 0); err != nil {
			t.Fatal(err)
		}

		results := tr.run()

		expect(t, results, "queue socket", Fail,
			fmt.Sprintf("the wazuh user (uid %d) cannot connect to %s (permission denied", os.Geteuid(), tr.queue.Path),
			"restart wazuh-manager")
	})
}
