package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadmeQuickStart runs every command in the Quick start section of
// README.md from the repository root, so the guide cannot drift from what
// works. "make test" is the command that runs this test, so it is checked
// to be what .ci/run calls instead of being run again.
func TestReadmeQuickStart(t *testing.T) {
	if testing.Short() {
		t.Skip("runs make demo")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	root := filepath.Join("..", "..")
	commands := quickStartCommands(t, filepath.Join(root, "README.md"))
	if len(commands) < 2 {
		t.Fatalf("found %d commands in the Quick start, want the demo and the test command", len(commands))
	}

	for _, command := range commands {
		t.Run(command, func(t *testing.T) {
			if command == "make test" {
				ci, err := os.ReadFile(filepath.Join(root, ".ci", "run"))
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(string(ci), "\nmake test\n") {
					t.Errorf(".ci/run does not call %q", command)
				}
				return
			}

			cmd := exec.Command("sh", "-c", command)
			cmd.Dir = root
			out, err := cmd.CombinedOutput()

			if err != nil {
				t.Fatalf("%s: %v\n%s", command, err, out)
			}
			if command == "make demo" {
				for _, want := range []string{"custom-misp exit 0", "rule 920100 level 12", "rule 920101 level 12", "rule 920102 level 12", "sendMessage chat_id=", `"kind":"server"`, "MISP requests during this run: 0"} {
					if !strings.Contains(string(out), want) {
						t.Errorf("demo output lacks %q", want)
					}
				}
			}
		})
	}
}

// quickStartCommands returns the lines of the sh code blocks between the
// "## Quick start" heading and the next "## " heading.
func quickStartCommands(t *testing.T, path string) []string {
	t.Helper()
	file, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()

	var commands []string
	inSection, inBlock := false, false
	scanner := bufio.NewScanner(file)
	for scanner.Scan() {
		line := scanner.Text()
		switch {
		case strings.HasPrefix(line, "## "):
			inSection = line == "## Quick start"
		case inSection && strings.HasPrefix(line, "```"):
			inBlock = !inBlock
		case inSection && inBlock && strings.TrimSpace(line) != "":
			commands = append(commands, strings.TrimSpace(line))
		}
	}
	return commands
}
