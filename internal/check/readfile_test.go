package check

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// mkfifo creates a FIFO at path and, when the test ends, opens its write end
// once, so that a reader still blocked in open(2) is released.
func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	os.Remove(path)
	if err := syscall.Mkfifo(path, 0o640); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	t.Cleanup(func() {
		if writer, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			writer.Close()
		}
	})
}

// runWithin runs every check and fails the test when they take longer than
// limit, which is how a check blocked in open(2) shows.
func (tr *tree) runWithin(limit time.Duration) []Result {
	tr.t.Helper()
	done := make(chan []Result, 1)
	go func() { done <- tr.run() }()
	select {
	case results := <-done:
		return results
	case <-time.After(limit):
		tr.t.Fatalf("check did not finish within %s", limit)
		return nil
	}
}

func TestReadRegular(t *testing.T) {
	dir := t.TempDir()
	regular := filepath.Join(dir, "ossec.conf")
	if err := os.WriteFile(regular, []byte("<ossec_config/>"), 0o640); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo.xml")
	mkfifo(t, fifo)
	linkToFIFO := filepath.Join(dir, "link.xml")
	if err := os.Symlink(fifo, linkToFIFO); err != nil {
		t.Fatal(err)
	}
	// A sparse file takes no disk space for its size.
	large := filepath.Join(dir, "large.xml")
	if err := os.WriteFile(large, nil, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(large, maxReadSize+1); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		path string

		skipped bool
		want    string
	}{
		{"regular file", regular, false, "<ossec_config/>"},
		{"fifo", fifo, true, "is a FIFO, not a regular file"},
		{"symlink to fifo", linkToFIFO, true, "is a FIFO, not a regular file"},
		{"directory", dir, true, "is a directory, not a regular file"},
		{"larger than limit", large, true, "has 67108865 bytes, more than the 67108864 check reads"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan struct{})
			var (
				data []byte
				err  error
			)
			go func() {
				data, err = readRegular(tc.path)
				close(done)
			}()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatalf("readRegular(%s) blocked", tc.path)
			}

			var skipped *skippedError
			if got := errors.As(err, &skipped); got != tc.skipped {
				t.Fatalf("error = %v, want a skippedError: %v", err, tc.skipped)
			}
			if tc.skipped {
				if want := tc.path + " " + tc.want; err.Error() != want {
					t.Errorf("error = %q, want %q", err, want)
				}
				return
			}
			if string(data) != tc.want {
				t.Errorf("data = %q, want %q", data, tc.want)
			}
		})
	}
}

func TestReadRegularMissing(t *testing.T) {
	_, err := readRegular(filepath.Join(t.TempDir(), "none.xml"))

	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("error = %v, want os.ErrNotExist", err)
	}
}

func TestRulesFIFOSkipped(t *testing.T) {
	tr := newTree(t, ProgramMISP)
	mkfifo(t, tr.path("etc/rules/local_rules.xml"))

	results := tr.runWithin(10 * time.Second)

	expect(t, results, "rules", Warn, "etc/rules/local_rules.xml is a FIFO", "not checked")
	expect(t, results, "rules file", OK, "rule 920100 is in etc/rules/misp_telegram_rules.xml")
}

func TestStockRulesFIFOSkipped(t *testing.T) {
	tr := newTree(t, ProgramMISP)
	mkfifo(t, tr.path("ruleset/rules/0010-rules_config.xml"))

	results := tr.runWithin(10 * time.Second)

	expect(t, results, "rules", Warn, "ruleset/rules/0010-rules_config.xml is a FIFO")
}

func TestRulesFileTooLarge(t *testing.T) {
	tr := newTree(t, ProgramMISP)
	tr.writeFile("etc/rules/local_rules.xml", "", 0o640)
	if err := os.Truncate(tr.path("etc/rules/local_rules.xml"), maxReadSize+1); err != nil {
		t.Fatal(err)
	}

	results := tr.runWithin(10 * time.Second)

	expect(t, results, "rules", Warn, "etc/rules/local_rules.xml has 67108865 bytes, more than the 67108864 check reads", "not checked")
}

func TestOssecConfFIFOSkipped(t *testing.T) {
	tr := newTree(t, ProgramTelegram)
	mkfifo(t, tr.path("etc/ossec.conf"))

	results := tr.runWithin(10 * time.Second)

	expect(t, results, "ossec.conf", Warn, tr.path("etc/ossec.conf")+" is a FIFO", "not checked")
}

func TestTemplateFIFO(t *testing.T) {
	tr := newTree(t, ProgramTelegram)
	template := "etc/misp-telegram/templates/misp_alert.en.md.tmpl"
	mkfifo(t, tr.path(template))

	results := tr.runWithin(10 * time.Second)

	expect(t, results, "template", Fail, tr.path(template)+" is a FIFO", "regular file")
}

func TestConfigFIFO(t *testing.T) {
	tr := newTree(t, ProgramMISP)
	mkfifo(t, tr.path("etc/misp-telegram.toml"))

	results := tr.runWithin(10 * time.Second)

	expect(t, results, "config", Fail, tr.path("etc/misp-telegram.toml")+" is a FIFO", "regular file")
}

func TestRunInterruptibleBlockedCheck(t *testing.T) {
	tr := newTree(t, ProgramTelegram)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	tr.probe.hang = release
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()

	results, err := RunInterruptible(ctx, tr.opts)

	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("returned after %s, want soon after the cancel at 200ms", elapsed)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}
	expect(t, results, "rules file", OK, "rule 920100 is in etc/rules/misp_telegram_rules.xml")
	for _, r := range results {
		if r.Name == "telegram bot" {
			t.Errorf("got a result of the blocked check: %s", r.Line())
		}
	}
}

func TestRunInterruptibleFinishes(t *testing.T) {
	tr := newTree(t, ProgramMISP)

	results, err := RunInterruptible(context.Background(), tr.opts)

	if err != nil {
		t.Fatalf("error = %v, want nil", err)
	}
	if got, want := lines(results), lines(tr.run()); got != want {
		t.Errorf("results =\n%s\nwant the results of Run:\n%s", got, want)
	}
}
