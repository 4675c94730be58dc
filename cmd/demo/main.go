// Command demo runs custom-misp and custom-telegram on the bundled sample
// alerts the way wazuh-integratord would, against local stand-ins for MISP,
// the Wazuh queue socket and the Telegram Bot API, and prints what each
// program sent. It needs no Wazuh manager, MISP instance or Telegram bot.
//
// Usage: go run ./cmd/demo -bin bin   (make demo builds bin/ first)
//
// With -bench it instead times both programs with hyperfine and GNU time
// against the same stand-ins and prints the table kept in BENCHMARKS.md.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/standin"
)

const (
	demoKey   = "DemoKey0000000000000000000000000000000000"
	demoToken = "123456789:DEMO-token-for-the-local-stand-in"
	demoChat  = "-1001234567890"
)

func main() {
	binDir := flag.String("bin", "bin", "directory holding the built custom-misp and custom-telegram")
	template := flag.String("template", "templates/misp_alert.en.md.tmpl", "Telegram message template")
	keep := flag.Bool("keep", false, "keep the temporary Wazuh home for inspection")
	bench := flag.Bool("bench", false, "measure whole-process times with hyperfine instead of running the demo")
	flag.Parse()

	var err error
	if *bench {
		err = benchmark(*binDir, *template, os.Stdout)
	} else {
		err = run(*binDir, *template, *keep, os.Stdout)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "demo: %v\n", err)
		os.Exit(1)
	}
}

// demo is the temporary Wazuh home and the stand-ins around it.
type demo struct {
	home  string
	misp  *standin.MISP
	queue *standin.Queue
	bot   *standin.BotAPI
	out   io.Writer
	seq   int
}

func run(binDir, template string, keep bool, out io.Writer) error {
	d, err := setUp(binDir, template, out)
	if err != nil {
		return err
	}
	defer d.tearDown(keep)

	samples, err := standin.Samples()
	if err != nil {
		return err
	}

	fmt.Fprintf(out, "Wazuh home: %s\nMISP stand-in: %s (seeded with demo attributes)\nBot API stand-in: %s\n\n", d.home, d.misp.URL(), d.bot.URL())
	fmt.Fprintln(out, "== 1. Every sample alert through custom-misp, then matches through custom-telegram")
	matches := 0
	for _, sample := range samples {
		n, err := d.process(sample.Name, sample.Data)
		if err != nil {
			return err
		}
		matches += n
	}

	fmt.Fprintln(out, "\n== 2. The same DNS alert again: answered from the cache, no MISP request")
	before := len(d.misp.Requests())
	if _, err := d.lookup("win_sysmon22_dns_query", mustSample(samples, "win_sysmon22_dns_query")); err != nil {
		return err
	}
	fmt.Fprintf(out, "   MISP requests during this run: %d\n", len(d.misp.Requests())-before)

	fmt.Fprintln(out, "\n== 3. MISP returns 500: an error event instead of a match, the lookup is spooled")
	d.misp.SetMode(standin.MISPError500)
	if _, err := d.lookup("win_sysmon3_public_ip (fresh cache)", withFreshIndicator(mustSample(samples, "win_sysmon3_public_ip"), "1764842400.999")); err != nil {
		return err
	}
	d.misp.SetMode(standin.MISPNormal)

	fmt.Fprintln(out, "\n== 4. MISP answers again: the next run replays the spool, and the late match is marked delayed")
	n, err := d.process("win_sysmon7_image_loaded (next alert)", mustSample(samples, "win_sysmon7_image_loaded"))
	if err != nil {
		return err
	}
	matches += n

	fmt.Fprintf(out, "\nDone: %d samples, %d matches, %d Telegram messages.\n", len(samples), matches, len(d.bot.Requests()))
	return nil
}

func setUp(binDir, template string, out io.Writer) (*demo, error) {
	home, err := os.MkdirTemp("", "wazuh-demo")
	if err != nil {
		return nil, err
	}
	d := &demo{home: home, out: out}
	for _, sub := range []string{"integrations", "etc/misp-telegram/templates", "logs", "var", "tmp"} {
		if err := os.MkdirAll(filepath.Join(home, sub), 0o750); err != nil {
			return nil, err
		}
	}
	for _, name := range []string{"custom-misp", "custom-telegram"} {
		if err := copyFile(filepath.Join(binDir, name), filepath.Join(home, "integrations", name), 0o750); err != nil {
			return nil, fmt.Errorf("%w (run make build first)", err)
		}
	}
	if err := copyFile(template, filepath.Join(home, "etc", "misp-telegram", "templates", filepath.Base(template)), 0o640); err != nil {
		return nil, err
	}

	if d.misp, err = standin.NewMISP(demoKey); err != nil {
		return nil, err
	}
	if d.queue, err = standin.ListenQueue(filepath.Join(home, "queue", "sockets", "queue")); err != nil {
		return nil, err
	}
	d.bot = standin.NewBotAPI()

	config := fmt.Sprintf(`[misp]
url = %q
api_key = %q

[telegram]
bot_token = %q
chat_id = %s
api_url = %q
template = "etc/misp-telegram/templates/%s"
rate_per_minute = 60
burst = 20
`, d.misp.URL(), demoKey, demoToken, demoChat, d.bot.URL(), filepath.Base(template))
	if err := os.WriteFile(filepath.Join(home, "etc", "misp-telegram.toml"), []byte(config), 0o640); err != nil {
		return nil, err
	}
	return d, nil
}

func (d *demo) tearDown(keep bool) {
	d.bot.Close()
	d.queue.Close()
	d.misp.Close()
	if keep {
		fmt.Fprintf(d.out, "Kept %s (logs in logs/integrations.log)\n", d.home)
		return
	}
	os.RemoveAll(d.home)
}

// process runs one alert through custom-misp and every resulting match
// alert through custom-telegram. It returns the number of matches.
func (d *demo) process(name string, alert []byte) (int, error) {
	messages, err := d.lookup(name, alert)
	if err != nil {
		return 0, err
	}
	matches := 0
	for _, message := range messages {
		d.seq++
		wazuhAlert, err := standin.AlertFromMessage(message, fmt.Sprintf("1764842500.%d", d.seq), time.Now())
		if err != nil {
			return 0, err
		}
		rule := wazuhAlert["rule"].(map[string]any)
		fmt.Fprintf(d.out, "   -> Wazuh alert, rule %s level %v: %s\n", rule["id"], rule["level"], rule["description"])
		if !strings.HasPrefix(rule["id"].(string), "9201") {
			continue
		}
		matches++
		if err := d.notify(wazuhAlert); err != nil {
			return 0, err
		}
	}
	return matches, nil
}

// lookup runs custom-misp on alert with the Wazuh 4.8 argv layout and
// prints and returns the datagrams that reached the queue socket.
func (d *demo) lookup(name string, alert []byte) ([][]byte, error) {
	var meta struct {
		Rule  struct{ ID string } `json:"rule"`
		Agent struct{ ID, Name string }
	}
	json.Unmarshal(alert, &meta)
	fmt.Fprintf(d.out, "\n-- %s (rule %s, agent %s %s)\n", name, meta.Rule.ID, meta.Agent.ID, meta.Agent.Name)

	alertFile, err := d.writeAlert("custom-misp", alert)
	if err != nil {
		return nil, err
	}
	code, elapsed, stderr, err := d.exec("custom-misp", alertFile)
	if err != nil {
		return nil, err
	}
	d.queue.WaitFor(1<<30, 20*time.Millisecond)
	messages := d.queue.Take()
	fmt.Fprintf(d.out, "   custom-misp exit %d in %d ms, %d event(s) on the queue socket%s\n", code, elapsed.Milliseconds(), len(messages), stderrNote(stderr))
	for _, message := range messages {
		fmt.Fprintf(d.out, "   %s\n", message)
	}
	return messages, nil
}

// notify runs custom-telegram on a match alert and prints the message the
// Bot API stand-in received.
func (d *demo) notify(wazuhAlert map[string]any) error {
	data, err := json.Marshal(wazuhAlert)
	if err != nil {
		return err
	}
	alertFile, err := d.writeAlert("custom-telegram", append(data, '\n'))
	if err != nil {
		return err
	}
	before := len(d.bot.Requests())
	code, elapsed, stderr, err := d.exec("custom-telegram", alertFile)
	if err != nil {
		return err
	}
	fmt.Fprintf(d.out, "   -> custom-telegram exit %d in %d ms%s\n", code, elapsed.Milliseconds(), stderrNote(stderr))
	for _, request := range d.bot.Requests()[before:] {
		fmt.Fprintf(d.out, "      sendMessage chat_id=%s parse_mode=%s:\n", request.Params["chat_id"], request.Params["parse_mode"])
		for _, line := range strings.Split(request.Params["text"], "\n") {
			fmt.Fprintf(d.out, "      | %s\n", line)
		}
	}
	return nil
}

func (d *demo) writeAlert(program string, data []byte) (string, error) {
	file, err := os.CreateTemp(filepath.Join(d.home, "tmp"), program+"-*.alert")
	if err != nil {
		return "", err
	}
	defer file.Close()
	_, err = file.Write(data)
	return file.Name(), err
}

// exec runs a program as integratord 4.8+ does with debug off.
func (d *demo) exec(program, alertFile string) (int, time.Duration, string, error) {
	cmd := exec.Command(filepath.Join(d.home, "integrations", program))
	cmd.Args = []string{"integrations", alertFile, "", "", "", "", "10", "3", "> /dev/null 2>&1"}
	cmd.Dir = d.home
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	elapsed := time.Since(start)
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return exitErr.ExitCode(), elapsed, stderr.String(), nil
	}
	return 0, elapsed, stderr.String(), err
}

func stderrNote(stderr string) string {
	stderr = strings.TrimSpace(stderr)
	if stderr == "" {
		return ""
	}
	return " (" + stderr + ")"
}

func mustSample(samples []standin.Sample, name string) []byte {
	for _, s := range samples {
		if s.Name == name {
			return s.Data
		}
	}
	panic("demo: no bundled sample named " + name)
}

// withFreshIndicator gives an alert another id and a destination address
// that is not in the cache yet, so the run has to ask MISP.
func withFreshIndicator(alert []byte, id string) []byte {
	var decoded map[string]any
	json.Unmarshal(alert, &decoded)
	decoded["id"] = id
	if data, ok := decoded["data"].(map[string]any); ok {
		if win, ok := data["win"].(map[string]any); ok {
			if eventdata, ok := win["eventdata"].(map[string]any); ok {
				eventdata["destinationIp"] = "45.133.1.20"
			}
		}
	}
	out, _ := json.Marshal(decoded)
	return append(out, '\n')
}

func copyFile(from, to string, mode os.FileMode) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, data, mode)
}
